"""Worker liveness: who holds a lock, and whether that worker still exists.

Each process that takes work (the huey consumer, or any process running a task) has a
name, `current()`, and a heartbeat thread that writes its `Worker` row every
`BEAT_SECONDS`. A lock records that name; it is free as soon as its owner is gone:

- its heartbeat is older than `STALE_SECONDS` (the process died, hung, or lost its
  host), or
- it ran on this host and its process id no longer runs (a killed consumer, seen at
  once by the one restarted in its place, without waiting for the heartbeat to age).

Any timed work can use it: store `current()` in an owner column when taking a row,
and treat the row as free when `owner_gone(Model.owner_column)` holds. Recovery to run
when a consumer starts (re-queue what dead workers held) is registered with
`on_start(fn)`; the consumer calls `start()` from huey's `on_startup` hook.

Clocks of the hosts must agree within a few seconds (NTP): heartbeats are compared
with the reader's clock.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
import time
from typing import Callable

import peewee as pw

from models import Worker, db, utcnow

log = logging.getLogger("gessin.workers")

BEAT_SECONDS = 2.0
STALE_SECONDS = 10.0  # five missed beats
FORGET_AFTER = dt.timedelta(days=1)  # rows of workers gone this long are deleted

_lock = threading.Lock()
_state: dict = {"name": None, "pid": None, "thread": None, "started": False}
_recoveries: list[Callable[[], None]] = []


def current() -> str:
    """This process's worker name; its heartbeat starts (and its row is written) on first use."""
    with _lock:
        if _state["pid"] != os.getpid():  # first call, or a forked child: a name of its own
            _state.update(name=f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}",
                          pid=os.getpid(), thread=None)
        if _state["thread"] is None:
            _beat_once(_state["name"])
            thread = threading.Thread(target=_heartbeat, args=(_state["name"],), name="gessin-heartbeat",
                                      daemon=True)
            _state["thread"] = thread
            thread.start()
            log.info("worker %s started", _state["name"])
        return _state["name"]


def _beat_once(name: str) -> None:
    host, pid = socket.gethostname(), os.getpid()
    (Worker.insert(name=name, host=host, pid=pid, heartbeat_at=utcnow(), created_at=utcnow())
     .on_conflict(conflict_target=[Worker.name], update={Worker.heartbeat_at: utcnow()})
     .execute())


def _heartbeat(name: str) -> None:
    """Runs in its own thread, on its own connection (peewee's are per thread)."""
    while True:
        time.sleep(BEAT_SECONDS)
        try:
            db.connect(reuse_if_open=True)
            _beat_once(name)
        except Exception as exc:  # noqa: BLE001 - the database went away: the next beat reconnects; a
            # thread that died would make this living worker look gone, and its rows be sent twice
            log.warning("worker %s: heartbeat not written (%s)", name, type(exc).__name__)
            db.drop()


def live_names() -> set[str]:
    """Workers alive now: a recent heartbeat, and on this host a process still running.
    This process is always alive to itself."""
    fresh = utcnow() - dt.timedelta(seconds=STALE_SECONDS)
    here = socket.gethostname()
    alive = {row.name for row in Worker.select(Worker.name, Worker.host, Worker.pid)
             .where(Worker.heartbeat_at >= fresh) if row.host != here or _running(row.pid)}
    if _state["pid"] == os.getpid() and _state["name"]:
        alive.add(_state["name"])
    return alive


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process with that id: not ours to judge, so alive
        return True
    return True


def owner_gone(owner: pw.Field, live: set[str] | None = None) -> pw.Expression:
    """SQL condition: the row's `owner` names a worker that no longer exists."""
    live = live_names() if live is None else live
    return owner.is_null(False) & owner.not_in(sorted(live)) if live else owner.is_null(False)


def on_start(recovery: Callable[[], None]) -> Callable[[], None]:
    """Register `recovery` to run once when a consumer process starts, after its heartbeat."""
    _recoveries.append(recovery)
    return recovery


def start() -> None:
    """Called by each consumer worker's startup hook: once per process, name and heartbeat,
    then the registered recoveries, and the rows of workers gone for a day are forgotten."""
    current()
    with _lock:
        if _state["started"] == os.getpid():
            return
        _state["started"] = os.getpid()
    Worker.delete().where(Worker.heartbeat_at < utcnow() - FORGET_AFTER).execute()
    for recovery in _recoveries:
        try:
            recovery()
        except Exception:  # noqa: BLE001 - one failing recovery must not keep the consumer down
            log.exception("recovery %s failed at start", getattr(recovery, "__name__", recovery))
