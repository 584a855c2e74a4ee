"""Background work on huey: SQLite storage by default, Redis when REDIS_URL is set.

Run the worker with `huey_consumer tasks.huey`. Tasks take ids, re-read what they
need, and are safe to run twice.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, TypeVar

import peewee as pw
from huey import RedisHuey, SqliteHuey

import config as gessin_config


def make_huey():
    immediate = os.environ.get("HUEY_IMMEDIATE", "") in ("1", "true", "yes")
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return RedisHuey("gessin", url=redis_url, immediate=immediate)
    instance = Path(os.environ.get("GESSIN_INSTANCE", gessin_config.DEFAULT_INSTANCE))
    instance.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("gessin", filename=str(instance / "huey.db"), immediate=immediate)


huey = make_huey()
_app = None
_app_lock = threading.Lock()


def flask_app():
    """The Flask app the worker runs tasks in (database, mail and translations bound).

    Built once per process: the consumer's worker threads all start at once.
    """
    global _app
    with _app_lock:
        if _app is None:
            from app import create_app
            _app = create_app()
    return _app


log = logging.getLogger("gessin.tasks")
T = TypeVar("T")


@huey.on_startup()
def _bind_app():
    logging.getLogger("huey").propagate = False  # the consumer logs huey's lines itself: once is enough
    app = flask_app()
    with app.app_context(), database():  # the heartbeat, then what dead workers held is re-queued
        workers.start()


@contextmanager
def database():
    """A connection for a task: opened if needed, closed only if this opened it.

    The task's first statement runs again on a fresh connection if it finds this one
    dropped (`models/connections.py`)."""
    from models import db
    opened = db.is_closed()
    if opened:
        db.start_work()
    try:
        yield
    finally:
        if opened:
            db.close()


def retrying(write: Callable[[], T], attempts: int = 6, first_delay: float = 0.2) -> T:
    """`write()`, again on a fresh connection if the database connection dropped (a
    restarted or failed-over server, a terminated backend, SQLite busy): up to `attempts`
    times, the wait doubling from `first_delay` (0.2 + 0.4 + ... 3.2 s: about 6 s in all).
    The statement must be safe to repeat: it may have committed before the error."""
    from models import db
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            db.connect(reuse_if_open=True)
            return write()
        except (pw.OperationalError, pw.InterfaceError) as exc:
            if attempt == attempts:
                raise
            log.warning("database write failed (%s: %s), retry %d in %.1f s", type(exc).__name__,
                        str(exc).strip()[:200], attempt, delay)
            db.drop()
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


from . import workers  # noqa: E402
from . import bulk, claims_office, dossier, housekeeping, mail, reminders  # noqa: E402,F401 - register the tasks with the consumer on import
