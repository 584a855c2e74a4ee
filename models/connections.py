"""The database classes Gessin binds, and how it tells a database fault from a bug.

- SQLite (the embedded default) begins every transaction IMMEDIATE: the write lock is
  taken at BEGIN, where `busy_timeout` waits for it. A DEFERRED transaction that reads
  and then writes asks for the lock while holding a read snapshot, and SQLite answers
  that at once with SQLITE_BUSY ("database is locked"): busy_timeout never waits there.
  A BEGIN that still finds the database busy is retried a few times, then `DatabaseBusy`.
- On every backend a connection found dropped at the first statement of a unit of work
  (a request, see `start_work`) is replaced once and the statement run again: nothing
  of that unit reached the database, so nothing can happen twice. Later, the error stands.

Callers answer `unavailable` errors with 503 and `Retry-After`, `disk_full` with 507.
"""
from __future__ import annotations

import logging
import random
import threading
import time

import peewee as pw
from playhouse.pool import PooledPostgresqlDatabase

log = logging.getLogger("gessin.database")

RETRY_AFTER_SECONDS = 5  # what a 503 tells the client to wait
BUSY_TIMEOUT_MS = 5000  # how long SQLite waits for the write lock at each BEGIN (and for each autocommit write)
BEGIN_ATTEMPTS = 3

# PostgreSQL SQLSTATEs: the server went away (class 08, 57P0x); try again (40001, 40P01, 55P03); full (53100).
_LOST_CODES = ("08", "57P01", "57P02", "57P03")
_BUSY_CODES = ("40001", "40P01", "55P03")
_FULL_CODES = ("53100",)
_LOST_TEXTS = ("server closed the connection", "terminating connection", "connection already closed",
               "could not receive data", "could not send data", "no connection to the server",
               "connection not open", "could not connect", "connection refused", "ssl syscall",
               "cannot operate on a closed database", "connection has been closed", "ssl connection has been closed")
_BUSY_TEXTS = ("database is locked", "database table is locked", "database schema is locked")
_FULL_TEXTS = ("database or disk is full", "no space left on device")


def summary(exc: BaseException) -> str:
    """The first line of a database error, for a log line without a traceback."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class DatabaseBusy(pw.OperationalError):
    """SQLite's write lock could not be had in time: the request may be sent again."""


def _original(exc: BaseException) -> BaseException:
    """The driver's exception peewee wrapped (peewee puts it as its first argument)."""
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
    return inner or exc.__cause__ or exc


def _matches(exc: BaseException, codes: tuple[str, ...], texts: tuple[str, ...]) -> bool:
    original = _original(exc)
    code = getattr(original, "pgcode", None) or ""
    text = str(original).lower()
    return any(code.startswith(c) for c in codes if code) or any(t in text for t in texts)


def connection_lost(exc: BaseException) -> bool:
    """The connection is gone (terminated, server restarted, network cut)."""
    if isinstance(exc, pw.InterfaceError):
        return True
    return isinstance(exc, pw.OperationalError) and _matches(exc, _LOST_CODES, _LOST_TEXTS)


def database_busy(exc: BaseException) -> bool:
    """Locked, or a serialization failure: the same work may succeed in a moment."""
    return isinstance(exc, DatabaseBusy) or (
        isinstance(exc, (pw.OperationalError, pw.InternalError)) and _matches(exc, _BUSY_CODES, _BUSY_TEXTS))


def unavailable(exc: BaseException) -> bool:
    """A fault of the database, not of the request: answer 503 and let the client retry."""
    return connection_lost(exc) or database_busy(exc)


def disk_full(exc: BaseException) -> bool:
    return isinstance(exc, pw.PeeweeException) and _matches(exc, _FULL_CODES, _FULL_TEXTS)


class Reconnecting:
    """Replaces a connection found dropped at the first statement of a unit of work, once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.work = threading.local()

    def start_work(self) -> None:
        """Open this thread's connection if needed; the next statement starts a unit of work.

        A request (or a task) calls it first: if that statement finds the connection
        dropped (a pooled or reused connection the server terminated meanwhile), it runs
        again on a fresh one.
        """
        self.connect(reuse_if_open=True)
        self.work.fresh = True

    def drop(self) -> None:
        """Give up this thread's connection, whatever its state. A broken one may fail to
        close; peewee forgets it all the same (outside a transaction, where callers are)."""
        try:
            self.close()
        except pw.PeeweeException as exc:
            log.debug("closing a broken connection: %s", exc)

    def reconnect(self) -> None:
        """Give up this thread's connection, whatever its state, and open a new one."""
        self.drop()
        self.connect()

    def begin(self, *args, **kwargs):
        return self._retried_if_first(super().begin, *args, **kwargs)

    def execute_sql(self, sql, params=None):
        return self._retried_if_first(super().execute_sql, sql, params)

    def _retried_if_first(self, run, *args, **kwargs):
        first = getattr(self.work, "fresh", False) and not self.in_transaction()
        self.work.fresh = False
        try:
            return run(*args, **kwargs)
        except (pw.OperationalError, pw.InterfaceError) as exc:
            if not (first and connection_lost(exc)):
                raise
            log.warning("database connection found dropped (%s): reconnecting and running the statement again",
                        summary(exc))
        self.reconnect()
        return run(*args, **kwargs)


class SqliteDatabase(Reconnecting, pw.SqliteDatabase):
    """SQLite whose transactions begin IMMEDIATE, retried a few times while another holds the lock."""

    def begin(self, lock_type=None):
        for attempt in range(1, BEGIN_ATTEMPTS + 1):
            try:
                return super().begin(lock_type or "IMMEDIATE")
            except pw.OperationalError as exc:
                if not database_busy(exc):
                    raise
                if attempt == BEGIN_ATTEMPTS:
                    log.warning("database busy: no write lock after %d attempts of %d ms", attempt, BUSY_TIMEOUT_MS)
                    raise DatabaseBusy("database is locked: another writer held it too long") from exc
            time.sleep(random.uniform(0.05, 0.25) * attempt)  # let the other writers through, not in step


class PostgresqlDatabase(Reconnecting, pw.PostgresqlDatabase):
    pass


class PooledPostgresDatabase(Reconnecting, PooledPostgresqlDatabase):
    pass


SCHEMES = {
    "sqlite": SqliteDatabase,
    "postgres": PostgresqlDatabase,
    "postgresql": PostgresqlDatabase,
    "postgres+pool": PooledPostgresDatabase,
    "postgresql+pool": PooledPostgresDatabase,
}

SQLITE_PRAGMAS = {
    "busy_timeout": BUSY_TIMEOUT_MS,  # first: the pragmas after it wait for a lock too
    "journal_mode": "wal",  # readers never block the writer, nor the writer them
    "foreign_keys": 1,
    "synchronous": "normal",
}
