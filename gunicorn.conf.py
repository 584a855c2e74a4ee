"""gunicorn's settings for Gessin in production (gunicorn reads this file from the
directory it starts in; `-c gunicorn.conf.py` names it explicitly).

    gunicorn 'app:create_app()'                      # the settings below
    gunicorn -w 4 -b 0.0.0.0:8000 'app:create_app()'  # flags override them

Environment: `GESSIN_BIND` (default 127.0.0.1:8000), `WEB_CONCURRENCY` (workers,
default one per core: a WinCar post is CPU work, and more sync workers than cores
were slower in `benchmarks/intake.py`).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

bind = os.environ.get("GESSIN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 0)) or os.cpu_count() or 2
timeout = 60  # a 25 MB intake on a slow line still fits; a stuck worker is replaced
graceful_timeout = 30
# A fresh worker now and then: the heap a worker keeps (below) cannot grow for ever.
max_requests = 2000
max_requests_jitter = 200

# glibc serves allocations above 128 KiB (a WinCar body of 3 MB, its documents, their
# copies) with a fresh mmap each time and gives it back on free, so every request
# faulted in thousands of new pages: about a third of a worker's CPU went to the
# kernel. Kept in the heap instead, the pages are reused from one request to the next.
MALLOC_MMAP_THRESHOLD = 32 * 1024 * 1024  # the largest glibc accepts on 64-bit
MALLOC_TRIM_THRESHOLD = 128 * 1024 * 1024  # free heap a worker keeps before giving it back
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from <malloc.h>


def keep_large_buffers() -> bool:
    """Tune glibc's malloc in this process; False where there is no glibc (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD))


def post_fork(server, worker):
    if not keep_large_buffers():
        logging.getLogger("gunicorn.error").info("malloc not tuned (no glibc): large requests cost more CPU")


def when_ready(server):
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgresql://", "postgres://")):
        server.log.warning("DATABASE_URL opens a PostgreSQL connection per request (~25 ms of server CPU "
                           "each under load): use postgresql+pool://...?max_connections=N")
