"""Deadline reminders: who is told that a claim's next deadline is near or past, once.

`sweep` finds the claims whose reminder day (`claim.remind_on`) has come, by a range scan
of that index in batches, and records one `DeadlineReminder` per recipient; `send_digests`
(workflows/reminder_digests.py) gathers each recipient's reminders into one e-mail a day.

Who is told (`recipients_of`): the ASP centre while the claim is Ricevuta, Incompleta or
Validata; from Affidata on the lawyer, or the centre when it recovers the file itself
(its own desk, or no lawyer); every breach also the call centre.

Once: the reminder's unique key (claim, kind, due_on, level, recipient) makes a second
sweep, a second worker or a restart write nothing; a deadline that moves has a new
`due_on` and may be reminded again. The claim's `remind_on` moves on in the same
statement that reads it: after the warning (in scadenza) to the first day past the
deadline, after the breach (scaduta) to nothing. A claim already past its deadline when
first seen gets the breach only.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from models import Claim, ClaimStatus, Lawyer, db, is_postgres, utcnow

from . import clock
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
    """UPDATE ... RETURNING: the claims of one batch read and moved on in one statement.

    The read and the write are the same statement, so a change committed meanwhile is
    never overwritten with a value computed from what it replaced: on PostgreSQL (READ
    COMMITTED) an UPDATE that meets a row changed by a concurrent transaction waits for
    it and evaluates its WHERE again on the new row, so a claim whose deadline moved to a
    later reminder day is left alone; SQLite runs one writer at a time (IMMEDIATE). The
    sweep does not change `version`: a user's change read before it still saves.
    The batch is the first claims of the `remind_on` index (a range scan); those it moves
    on leave the range, so the next batch starts again at the index's beginning.
    """
    final = ", ".join(f"'{s}'" for s in ClaimStatus.FINAL)
    day_after = '"next_due_on" + 1' if is_postgres() else "date(\"next_due_on\", '+1 day')"
    first = 'COALESCE("next_warn_on", "next_due_on")'
    due = f'SELECT "id" FROM "claim" WHERE "remind_on" <= {p} ORDER BY "remind_on" LIMIT {p}'
    # PostgreSQL: the batch's ids as an array, so the rows are fetched by primary key (given
    # `IN (subquery)` it hashes every due claim against the batch, once per batch).
    batch = f"= ANY(ARRAY({due}))" if is_postgres() else f"IN ({due})"
    return (
        f'UPDATE "claim" SET "remind_on" = CASE'
        f' WHEN "next_due_on" IS NULL OR "next_due_on" < {p} OR "status" IN ({final}) THEN NULL'
        f' WHEN {first} > {p} THEN {first}'
        f' ELSE {day_after} END'
        f' WHERE "remind_on" <= {p} AND "id" {batch}'
        f' RETURNING "id", "status", "asp_centre_id", "lawyer_id", "next_due_on", "next_due_kind", "next_warn_on"')


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
    """One transaction: up to `batch` claims moved on, their reminders recorded."""
    now, iso = utcnow(), today.isoformat()
    with db.atomic():
        claims = db.execute_sql(sql, [iso] * 4 + [batch]).fetchall()
        rows = []
        for claim_id, status, centre_id, lawyer_id, due, kind, warn in claims:
            due, warn = _date(due), _date(warn)
            level = level_on(due, warn, today) if status not in ClaimStatus.FINAL else None
            if level is None or kind is None:
                continue
            for recipient in recipients_of(status, centre_id, lawyer_id, level, desks):
                rows.append((now, claim_id, kind, due.isoformat(), level, recipient, iso))
        recorded = _record(rows)
    return len(claims), recorded


def sweep(today: dt.date | None = None, batch: int = BATCH) -> SweepResult:
    """Record the reminders of every claim whose reminder day has come, `batch` claims
    per transaction. Each claim read leaves the range (its `remind_on` moves past
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

