"""Background work on huey: SQLite storage by default, Redis when REDIS_URL is set.

Run the worker with `huey_consumer tasks.huey`. Tasks take ids, re-read what they
need, and are safe to run twice.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

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


@huey.on_startup()
def _bind_app():
    import logging
    logging.getLogger("huey").propagate = False  # the consumer logs huey's lines itself: once is enough
    flask_app()


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


from . import bulk, mail  # noqa: E402,F401 - register the tasks with the consumer on import
