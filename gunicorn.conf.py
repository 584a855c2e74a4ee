"""gunicorn's settings for Gessin in production (gunicorn reads this file from the
directory it starts in; `-c gunicorn.conf.py` names it explicitly).

    gunicorn 'app:create_app()'                      # the settings below
    gunicorn -w 4 -b 0.0.0.0:8000 'app:create_app()'  # flags override them

Environment: `GESSIN_BIND` (default 127.0.0.1:8000), `WEB_CONCURRENCY` (workers,
default one per core: a WinCar post is CPU work, and more sync workers than cores
were slower in `benchmarks/intake.py`), `GLIBC_TUNABLES` (below).
"""
from __future__ import annotations

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
# faulted in thousands of new pages. Kept in the heap instead, the pages are reused from
# one request to the next: 1-4 ms of a worker's 22-24 ms of CPU per post saved, measured
# by `benchmarks/intake.py --malloc both` (benchmarks/README.md).
# glibc reads that setting from the environment when the process starts, so it belongs
# to the deployment, not to this file: start gunicorn with GLIBC_TUNABLES (README,
# "Production"). Its value, for the deployment scripts and the intake benchmark:
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728"


def when_ready(server):
    if "glibc.malloc.mmap_threshold" not in os.environ.get("GLIBC_TUNABLES", ""):
        server.log.info("GLIBC_TUNABLES does not keep large buffers in the heap: each WinCar post costs "
                        "more CPU (README, Production)")
    if not os.environ.get("PUBLIC_URL"):
        server.log.warning("PUBLIC_URL is not set: the links in e-mails point to http://127.0.0.1:5000, "
                           "a development address (README, Production)")
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgresql://", "postgres://")):
        server.log.warning("DATABASE_URL opens a PostgreSQL connection per request (~25 ms of server CPU "
                           "each under load): use postgresql+pool://...?max_connections=N")
