"""What `bulk.py` measures of a step: its wall and CPU time, its SQL statements and their
database time, and the e-mail hand-off; with `--explain`, the statements by kind and their plans.

Imported by `bulk.py` once it has set the environment the app reads on import.
"""
from __future__ import annotations

import logging
import re
import time

import tasks
from models import db, is_postgres
from workflows import notify


class Probe(logging.Handler):
    """While active: the SQL statements peewee runs (a handler on the `peewee` logger,
    as tests/conftest.QueryCounter), the time the database spent executing them (a
    peewee query hook), and the e-mail hand-off (notify's dispatch, wrapped): its
    time, calls, e-mail ids, and the huey tasks it left in the queue."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements: list = []
        self.sql_seconds = 0.0
        self.durations: list[float] = []
        self.handoff_seconds = 0.0
        self.handoff_calls = 0
        self.handoff_ids = 0
        self.enqueued = 0

    def emit(self, record):
        self.statements.append(record.msg)

    def _hook(self, event):
        self.sql_seconds += event.duration
        self.durations.append(event.duration)

    def _dispatch(self, email_ids):
        started = time.perf_counter()
        try:
            self._inner_dispatch(email_ids)
        finally:
            self.handoff_seconds += time.perf_counter() - started
            self.handoff_calls += 1
            self.handoff_ids += len(email_ids)

    def __enter__(self):
        self._queued = tasks.huey.pending_count()
        logger = logging.getLogger("peewee")
        self._saved = logger.level, logger.propagate
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # keep the SQL off the console
        logger.addHandler(self)
        db.obj.query_hooks.append(self._hook)
        self._inner_dispatch = notify._dispatch
        notify._dispatch = self._dispatch
        return self

    def __exit__(self, *exc):
        notify._dispatch = self._inner_dispatch
        db.obj.query_hooks.remove(self._hook)
        logger = logging.getLogger("peewee")
        logger.removeHandler(self)
        level, logger.propagate = self._saved
        logger.setLevel(level)  # setLevel, not .level =: it clears the isEnabledFor cache
        self.enqueued = tasks.huey.pending_count() - self._queued

    @property
    def count(self) -> int:
        return len(self.statements)


class Timer:
    """Wall time, and CPU time of this process (threads included; not the database server's)."""

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._wall
        self.cpu_seconds = time.process_time() - self._cpu


class Measure:
    """One timed step of one run."""

    def __init__(self, timer: Timer, probe: Probe, claims: int):
        self.seconds = timer.seconds
        self.cpu_seconds = timer.cpu_seconds
        self.statements = probe.count
        self.sql_seconds = probe.sql_seconds
        self.handoff_seconds = probe.handoff_seconds
        self.handoff_calls = probe.handoff_calls
        self.handoff_ids = probe.handoff_ids
        self.enqueued = probe.enqueued
        self.per_claim = probe.count / claims
        self.probe = probe  # its statements, for --explain


# ---- --explain ----------------------------------------------------------------------

def shape(sql: str) -> str:
    """The statement with its lists of parameters collapsed: one line per kind."""
    sql = re.sub(r"(?:\?|%s)(?:, (?:\?|%s))+", "...", sql)
    sql = re.sub(r"\((?:\?|%s|\.\.\.)\)(?:, \((?:\?|%s|\.\.\.)\))+", "(...), ...", sql)
    return re.sub(r"^SELECT .*? FROM ", "SELECT ... FROM ", sql)


def explain(probe: Probe) -> None:
    """Each kind of statement of one apply_many: how many, their database time, and the
    plan of the first one of each SELECT or UPDATE kind (PostgreSQL: EXPLAIN ANALYZE,
    an UPDATE inside a transaction rolled back; SQLite: EXPLAIN QUERY PLAN)."""
    kinds: dict[str, list] = {}
    for (sql, params), seconds in zip(probe.statements, probe.durations, strict=True):
        kinds.setdefault(shape(sql), [0, 0.0, sql, params])
        kinds[shape(sql)][0] += 1
        kinds[shape(sql)][1] += seconds
    print(f"  statements of apply_many by kind ({probe.count} in all):")
    with db.connection_context():
        for text, (count, seconds, sql, params) in kinds.items():
            print(f"  {count:>5} x {seconds * 1000:>8.1f} ms  {text[:300]}")
            if not sql.startswith(("SELECT", "UPDATE")):
                continue
            with db.atomic() as txn:
                prefix = "EXPLAIN ANALYZE " if is_postgres() else "EXPLAIN QUERY PLAN "
                plan = db.execute_sql(prefix + sql, params).fetchall()
                txn.rollback()
            print_plan([str(row[-1]) for row in plan])


def print_plan(lines: list[str]) -> None:
    """The plan, long lines cut, and a block of lines repeated but for its numbers
    (PostgreSQL's 500 index probes of an IN list) printed once with its count."""
    keys = [re.sub(r"\d+(?:\.\d+)?", "N", line) for line in lines]
    i = 0
    while i < len(lines):
        period, times = 1, 1
        for p in (1, 2, 3):
            k = 1
            while keys[i + k * p:i + (k + 1) * p] == keys[i:i + p]:
                k += 1
            if k > times:
                period, times = p, k
        for line in lines[i:i + period]:
            print(f"                        {line if len(line) <= 200 else line[:200] + '...'}")
        if times > 1:
            indent = " " * (len(lines[i]) - len(lines[i].lstrip()))
            print(f"                        {indent}[the {'line' if period == 1 else f'{period} lines'} above "
                  f"{times} times in all, numbers differing]")
        i += period * times
