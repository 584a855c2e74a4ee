"""Deadline reminders: who is told that a claim's next deadline is near or past, once.

`sweep` finds the claims whose reminder day (`ReminderDue.remind_on`) has come, by a
range scan of that index in batches, and records one `DeadlineReminder` per recipient; `send_digests`
(workflows/reminder_digests.py) gathers each recipient's reminders into one e-mail a day.

Who is told (`recipients_of`): the ASP centre while the claim is Ricevuta, Incompleta or
Validata; from Affidata on the lawyer, or the centre when it recovers the file itself
(its own desk, or no lawyer); every breach also the call centre.

Once: the reminder's unique key (claim, kind, due_on, level, recipient) makes a second
sweep, a second worker or a restart write nothing; a deadline that moves has a new
`due_on` and may be reminded again. The claim's reminder day moves on in the same
statement that reads it: after the warning (in scadenza) to the first day past the
deadline, after the breach (scaduta) to nothing (its row is deleted). A claim already
past its deadline when first seen gets the breach only.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from models import ClaimStatus, Lawyer, db, is_postgres, utcnow

from . import clock, deadline_store
from .next_due import DUE_SOON, OVERDUE
from .reminder_digests import CALL_CENTRE, send_digests  # noqa: F401 - the digests, the second half

log = logging.getLogger("gessin.workflows")

BATCH = 1000
INSERT_CHUNK = 500  # reminder rows per INSERT (7 parameters each)
CENTRE_STATES = (ClaimStatus.RECEIVED, ClaimStatus.INCOMPLETE, ClaimStatus.VALIDATED)
LAWYER_STATES = (ClaimStatus.ASSIGNED, ClaimStatus.FILED, ClaimStatus.PARTIALLY_REIMBURSED)


def centre(centre_id: int) -> str:
    return f"centre:{centre_id}"


def lawyer(lawyer_id: int) -> str:
    return f"lawyer:{lawyer_id}"


def level_on(due: dt.date | None, warn: dt.date | None, today: dt.date) -> str | None:
    """The reminder a stored next deadline calls for on `today`: the breach once past it,
    the warning from its warning day (the last day itself, for a deadline without one),
    else none yet. The same rule as `next_due.level_of`, except that last day."""
    if due is None:
        return None
    if today > due:
        return OVERDUE
    return DUE_SOON if today >= (warn or due) else None


def remind_next(due: dt.date | None, warn: dt.date | None, today: dt.date) -> dt.date | None:
    """The claim's next reminder day once `today`'s is recorded (the SQL of `_ADVANCE`)."""
    level = level_on(due, warn, today)
    if level == OVERDUE or due is None:
        return None
    return due + dt.timedelta(days=1) if level == DUE_SOON else (warn or due)


def recipients_of(status: str, centre_id: int, lawyer_id: int | None, level: str,
                  desks: dict[int, int]) -> list[str]:
    """Who is told of a claim's deadline at `level`; `desks` maps each centre's own desk
    (the `Lawyer` a centre entrusts files to itself) to its centre."""
    if status in CENTRE_STATES:
        told = [centre(centre_id)]
    elif status in LAWYER_STATES:
        told = [centre(desks[lawyer_id]) if lawyer_id in desks else lawyer(lawyer_id) if lawyer_id
                else centre(centre_id)]
    else:
        told = []
    if level == OVERDUE and told:
        told.append(CALL_CENTRE)
    return told


def own_desks() -> dict[int, int]:
    """Lawyer id -> centre id of every centre's own desk (one row per centre, not per claim)."""
    return dict(Lawyer.select(Lawyer.id, Lawyer.own_centre).where(Lawyer.own_centre.is_null(False)).tuples())


@dataclass
class SweepResult:
    claims: int = 0  # claims whose reminder day had come
    reminders: int = 0  # reminders recorded (those already there are not counted)
    batches: int = 0


def _advance_sql(p: str) -> str:
    """UPDATE ... RETURNING: the reminder days of one batch read and moved on in one statement.

    The day moves on from the deadline stored in the same `reminder_due` row (its `due_on`
    and `warn_on`, written with it), so the read and the write are the same statement and
    a change committed meanwhile is never overwritten with a value computed from what it
    replaced: on PostgreSQL (READ COMMITTED) an UPDATE that meets a row changed by a
    concurrent transaction waits for it and evaluates its WHERE and SET again on the new
    row, so a claim whose deadline moved to a later reminder day is left alone; SQLite
    runs one writer at a time (IMMEDIATE). `claim` is not written: neither its version
    (a user's change read before the sweep still saves) nor its indexes.
    The batch is the first rows of the `remind_on` index (a range scan); those it moves on
    leave the range, so the next batch starts again at the index's beginning.
    """
    day_after = '"due_on" + 1' if is_postgres() else "date(\"due_on\", '+1 day')"
    first = 'COALESCE("warn_on", "due_on")'
    due = f'SELECT "claim_id" FROM "reminder_due" WHERE "remind_on" <= {p} ORDER BY "remind_on" LIMIT {p}'
    # PostgreSQL: the batch's ids as an array, so the rows are fetched by primary key (given
    # `IN (subquery)` it hashes every due row against the batch, once per batch).
    batch = f"= ANY(ARRAY({due}))" if is_postgres() else f"IN ({due})"
    return (
        f'UPDATE "reminder_due" SET "remind_on" = CASE WHEN "due_on" < {p} THEN NULL'
        f' WHEN {first} > {p} THEN {first} ELSE {day_after} END'
        f' WHERE "remind_on" <= {p} AND "claim_id" {batch}'
        f' RETURNING "claim_id", "due_on", "warn_on", "remind_on"')


def _claims_sql(p: str, count: int) -> str:
    """What the reminders need of the batch's claims, by primary key."""
    ids = f"= ANY({p})" if is_postgres() else f'IN ({", ".join([p] * count)})'
    return (f'SELECT "id", "status", "next_due_kind", "next_due_on", "asp_centre_id", "lawyer_id" FROM "claim" '
            f'WHERE "id" {ids}')


def _date(value) -> dt.date | None:
    """A DATE column as RETURNING gives it (SQLite: its ISO text)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _record(rows: list[tuple]) -> int:
    """INSERT the reminder rows, each ignored when its unique key is already there."""
    if not rows:
        return 0
    p, written = db.param, 0
    one = "(" + ", ".join([p] * 7) + ")"
    for start in range(0, len(rows), INSERT_CHUNK):
        part = rows[start:start + INSERT_CHUNK]
        sql = ('INSERT INTO "deadline_reminder" ("created_at", "claim_id", "kind", "due_on", "level", "recipient", '
               f'"found_on") VALUES {", ".join([one] * len(part))} ON CONFLICT DO NOTHING')
        written += db.execute_sql(sql, [value for row in part for value in row]).rowcount
    return written


def _batch(sql: str, today: dt.date, batch: int, desks: dict[int, int]) -> tuple[int, int]:
    """One transaction: up to `batch` reminder days moved on, their reminders recorded, the
    rows of the claims with nothing more to remind (or closed, or without a deadline) deleted."""
    # created_at as text: adapting a datetime per row costs more than the rest of the row
    now, iso, p = utcnow().isoformat(" "), today.isoformat(), db.param
    with db.atomic():
        moved = db.execute_sql(sql, [iso] * 4 + [batch]).fetchall()
        if not moved:
            return 0, 0
        ids = [row[0] for row in moved]
        claims = {row[0]: row[1:] for row in db.execute_sql(
            _claims_sql(p, len(ids)), [ids] if is_postgres() else ids).fetchall()}
        rows, done = [], []
        for claim_id, due, warn, day in moved:
            status, kind, claim_due, centre_id, lawyer_id = claims.get(claim_id, (None,) * 5)
            if day is None or status is None or status in ClaimStatus.FINAL or claim_due is None:
                done.append(claim_id)
            due, warn = _date(due), _date(warn)
            level = level_on(due, warn, today) if status not in ClaimStatus.FINAL and claim_due else None
            if level is None or kind is None:
                continue
            for recipient in recipients_of(status, centre_id, lawyer_id, level, desks):
                rows.append((now, claim_id, kind, due.isoformat(), level, recipient, iso))
        recorded = _record(rows)
        if done:
            deadline_store.schedule_reminders(dict.fromkeys(done))
    return len(moved), recorded


def sweep(today: dt.date | None = None, batch: int = BATCH) -> SweepResult:
    """Record the reminders of every claim whose reminder day has come, `batch` claims
    per transaction. Each claim read leaves the range (its reminder day moves past
    `today`, or to nothing), so the next batch starts where the index still holds due
    claims and the sweep ends when none is left; memory stays that of one batch."""
    today = today or clock.today()
    sql, desks, result = _advance_sql(db.param), own_desks(), SweepResult()
    while True:
        claims, recorded = _batch(sql, today, batch, desks)
        if not claims:
            break
        result.claims += claims
        result.reminders += recorded
        result.batches += 1
    if result.claims:
        log.info("deadline reminders of %s: %d claims due, %d reminders recorded in %d batches",
                 today.isoformat(), result.claims, result.reminders, result.batches)
    return result

