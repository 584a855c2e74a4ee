"""The floor of `bulk.py`: the least the database must do to entrust the claims, in SQL
written by hand, timed beside `apply_many` so that its cost reads as a ratio.

It does the work the product must do and nothing of ours besides: the claims change
state, lawyer and version, with their next deadline (DOMAIN.md, "Deadlines": the
work-queue limit of Affidata counted from today, the earliest of the claims' deadlines
here, their prescription being two years off) and their reminder day; one history row
each; one e-mail text listing the claims and one outbox row per party. No rules, no
scope, no rendering (the body is the claims' numbers).

Imported by `bulk.py` once it has set the environment the app reads on import.
"""
from __future__ import annotations

import datetime as dt

from bulk_load import EVENT, S
from bulk_measure import Measure, Probe, Timer
from models import db, utcnow
from workflows import clock


def run_floor(ids: list[int], parties: dict) -> Measure:
    """Seven statements: the queue limit of Affidata; one UPDATE of the claims, with their
    next deadline; one INSERT ... SELECT of their reminder days (ON CONFLICT, as a claim
    may have one); one INSERT ... SELECT of their history rows; the claims' numbers; one
    INSERT of the e-mail's text; one INSERT of its recipient rows, one per party."""
    manager, p, now = parties["manager"], db.param, utcnow()
    marks = ", ".join([p] * len(ids))
    with db.connection_context(), Probe() as probe, Timer() as timer:
        [(warning_days, breach_days)] = db.execute_sql(
            f'SELECT "warning_days", "breach_days" FROM "queue_limit" WHERE "status" = {p}', [S.ASSIGNED]).fetchall()
        today = clock.today()
        due, warn = today + dt.timedelta(days=breach_days), today + dt.timedelta(days=warning_days)
        with db.atomic():
            db.execute_sql(f'UPDATE "claim" SET "status" = {p}, "lawyer_id" = {p}, "version" = "version" + 1, '
                           f'"status_since" = {p}, "updated_at" = {p}, "next_due_on" = {p}, "next_due_kind" = {p}, '
                           f'"next_warn_on" = {p} WHERE "id" IN ({marks}) AND "status" = {p}',
                           [S.ASSIGNED, parties["lawyer"], now, now, due, "queue", warn, *ids, S.VALIDATED])
            db.execute_sql(f'INSERT INTO "reminder_due" ("claim_id", "remind_on", "due_on", "warn_on") '
                           f'SELECT "id", {p}, {p}, {p} FROM "claim" WHERE "id" IN ({marks}) '
                           'ON CONFLICT ("claim_id") DO UPDATE SET "remind_on" = EXCLUDED."remind_on", '
                           '"due_on" = EXCLUDED."due_on", "warn_on" = EXCLUDED."warn_on"',
                           [warn, due, warn, *ids])
            db.execute_sql(f'INSERT INTO "status_change" ("created_at", "claim_id", "at", "actor_id", "actor_label", '
                           f'"event", "from_status", "to_status") SELECT {p}, "id", {p}, {p}, {p}, {p}, {p}, {p} '
                           f'FROM "claim" WHERE "id" IN ({marks})',
                           [now, now, manager.id, str(manager), EVENT, S.VALIDATED, S.ASSIGNED, *ids])
            numbers = "\n".join(number for (number,) in db.execute_sql(
                f'SELECT "number" FROM "claim" WHERE "id" IN ({marks})', ids).fetchall())
            [(message_id,)] = db.execute_sql(
                f'INSERT INTO "outbound_message" ("created_at", "subject", "body") VALUES ({p}, {p}, {p}) '
                'RETURNING "id"', [now, f"{len(ids)} pratiche affidate", numbers]).fetchall()
            addresses = sorted(parties["emails"])
            db.execute_sql('INSERT INTO "outbound_email" ("created_at", "recipients", "message_id", "status", '
                           '"attempts", "next_attempt_at", "possible_duplicate") VALUES '
                           + ", ".join([f"({p}, {p}, {p}, {p}, 0, {p}, {p})"] * len(addresses)),
                           [v for address in addresses for v in (now, address, message_id, "pending", now, False)])
    return Measure(timer, probe, len(ids))
