"""Deadline reminders (workflows/reminders.py): who is told, once per claim, term, level and
recipient; the claim's reminder day moving on; the guard against a concurrent change."""
from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time

import psycopg2
import pytest

from models import Claim, ClaimStatus, DeadlineReminder, Lawyer, ReminderDue, Role, db, is_postgres
from workflows import deadline_store, engine, next_due, reminders

from .conftest import QueryCounter
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures and builders

DAY = dt.timedelta(days=1)
D = dt.date(2027, 3, 10)  # the deadline of most claims here; a Wednesday, no holiday around


def deadline(claim, due_on=D, warn_on=D - 3 * DAY, kind="queue", remind_on=None):
    """Give `claim` a stored next deadline, its reminder day at the warning day (as `values_of`)."""
    Claim.update(next_due_on=due_on, next_due_kind=kind, next_warn_on=warn_on).where(Claim.id == claim.id).execute()
    set_day(claim, remind_on or warn_on or due_on, due_on, warn_on)
    return Claim.get_by_id(claim.id)


def set_day(claim, day, due_on=D, warn_on=None):
    """The claim's reminder row as a writer of its next deadline leaves it (None: no row)."""
    deadline_store.schedule_reminders({claim.id: (day, due_on, warn_on) if day else None})


def told(claim=None) -> list[tuple]:
    query = DeadlineReminder.select().order_by(DeadlineReminder.id)
    if claim is not None:
        query = query.where(DeadlineReminder.claim == claim.id)
    return [(r.kind, r.due_on, r.level, r.recipient) for r in query]


def remind_on(claim):
    row = ReminderDue.get_or_none(ReminderDue.claim == claim.id)
    return row.remind_on if row else None


def test_the_centre_is_told_until_the_claim_is_entrusted_then_the_lawyer(desk):
    centre, law = f"centre:{desk.centre.id}", f"lawyer:{desk.lawyer.id}"
    expected = {ClaimStatus.RECEIVED: centre, ClaimStatus.INCOMPLETE: centre, ClaimStatus.VALIDATED: centre,
                ClaimStatus.ASSIGNED: law, ClaimStatus.FILED: law, ClaimStatus.PARTIALLY_REIMBURSED: law}
    claims = {status: deadline(claim_in(desk, status)) for status in expected}
    found = reminders.sweep(today=D - 3 * DAY)
    assert (found.claims, found.reminders) == (6, 6)
    for status, recipient in expected.items():
        assert told(claims[status]) == [("queue", D, "due_soon", recipient)], status


def test_a_claim_the_centre_recovers_itself_is_told_to_the_centre_and_every_breach_to_the_call_centre(desk):
    manager = desk.users[Role.ASP_MANAGER]
    own = engine.apply("self_assign", claim_in(desk, ClaimStatus.VALIDATED), manager)
    assert Lawyer.get_by_id(own.lawyer_id).own_centre_id == desk.centre.id
    own = deadline(own)
    entrusted = deadline(claim_in(desk, ClaimStatus.FILED), kind="offer")
    reminders.sweep(today=D + DAY)
    assert told(own) == [("queue", D, "overdue", f"centre:{desk.centre.id}"), ("queue", D, "overdue", "callcentre")]
    assert told(entrusted) == [("offer", D, "overdue", f"lawyer:{desk.lawyer.id}"),
                               ("offer", D, "overdue", "callcentre")]


def test_the_recipients_rule_by_state_and_level():
    desks = {70: 7}
    assert reminders.recipients_of("validated", 7, None, "due_soon", desks) == ["centre:7"]
    assert reminders.recipients_of("filed", 7, 70, "overdue", desks) == ["centre:7", "callcentre"]
    assert reminders.recipients_of("assigned", 7, 5, "due_soon", desks) == ["lawyer:5"]
    assert reminders.recipients_of("assigned", 7, None, "due_soon", desks) == ["centre:7"]  # no lawyer: the centre
    assert reminders.recipients_of("closed", 7, 5, "overdue", desks) == []


def test_a_second_sweep_writes_nothing_even_when_the_reminder_day_is_set_again(desk):
    claim = deadline(claim_in(desk, ClaimStatus.ASSIGNED))
    assert reminders.sweep(today=D - DAY).reminders == 1
    again = reminders.sweep(today=D - DAY)
    assert (again.claims, again.reminders) == (0, 0)
    # A batch change that rewrote the same deadline (next_due.columns_for) puts the day back:
    # the claim is read again and the unique key keeps the reminder single.
    deadline(claim)
    again = reminders.sweep(today=D - DAY)
    assert (again.claims, again.reminders) == (1, 0)
    assert len(told(claim)) == 1 and remind_on(claim) == D + DAY


def test_the_warning_then_the_breach_on_later_days_then_nothing(desk):
    claim = deadline(claim_in(desk, ClaimStatus.ASSIGNED))
    law = f"lawyer:{desk.lawyer.id}"
    assert reminders.sweep(today=D - 4 * DAY).claims == 0  # before the warning day
    reminders.sweep(today=D - 3 * DAY)
    assert told(claim) == [("queue", D, "due_soon", law)] and remind_on(claim) == D + DAY
    reminders.sweep(today=D)  # the last day: still the warning, said already
    assert len(told(claim)) == 1
    reminders.sweep(today=D + DAY)
    assert told(claim)[1:] == [("queue", D, "overdue", law), ("queue", D, "overdue", "callcentre")]
    assert remind_on(claim) is None
    assert reminders.sweep(today=D + 30 * DAY).claims == 0
    assert len(told(claim)) == 3


def test_a_claim_first_seen_past_its_deadline_gets_only_the_breach(desk):
    claim = deadline(claim_in(desk, ClaimStatus.RECEIVED))
    reminders.sweep(today=D + 5 * DAY)
    assert {level for _, _, level, _ in told(claim)} == {"overdue"}
    assert remind_on(claim) is None


def test_a_deadline_that_moves_reminds_again_for_its_new_date(desk):
    claim = deadline(claim_in(desk, ClaimStatus.FILED), kind="prescription")
    reminders.sweep(today=D + DAY)
    assert [level for _, _, level, _ in told(claim)] == ["overdue", "overdue"]
    later = D + 730 * DAY  # a PEC interrupted prescription: two new years
    deadline(claim, due_on=later, warn_on=later - 7 * DAY, kind="prescription")
    assert reminders.sweep(today=D + 2 * DAY).claims == 0
    reminders.sweep(today=later - 7 * DAY)
    assert told(claim)[2:] == [("prescription", later, "due_soon", f"lawyer:{desk.lawyer.id}")]


def test_a_closed_claim_or_one_without_a_deadline_is_told_nothing_and_leaves_the_range(desk):
    closed = claim_in(desk, ClaimStatus.CLOSED)
    Claim.update(next_due_on=D, next_due_kind="queue", next_warn_on=D - DAY).where(Claim.id == closed.id).execute()
    set_day(closed, D - DAY, D, D - DAY)
    bare = claim_in(desk, ClaimStatus.VALIDATED)
    Claim.update(next_due_on=None, next_due_kind=None, next_warn_on=None).where(Claim.id == bare.id).execute()
    set_day(bare, D - DAY, D, D - DAY)
    found = reminders.sweep(today=D)
    assert (found.claims, found.reminders) == (2, 0)
    assert remind_on(closed) is None and remind_on(bare) is None
    assert not ReminderDue.select().where(ReminderDue.claim.in_([closed.id, bare.id])).exists()  # rows gone


def test_the_next_reminder_day_in_sql_is_the_one_of_the_python_rule(desk):
    cases = [(D, D - 3 * DAY, D - 3 * DAY), (D, D - 3 * DAY, D), (D, D - 3 * DAY, D + DAY), (D, None, D),
             (D, D - 3 * DAY, D - 5 * DAY)]  # the last: its day set before the warning (a migration's value)
    for due, warn, today in cases:
        claim = deadline(claim_in(desk, ClaimStatus.ASSIGNED), due_on=due, warn_on=warn, remind_on=D - 10 * DAY)
        assert reminders.sweep(today=today).claims == 1
        assert remind_on(claim) == reminders.remind_next(due, warn, today), (due, warn, today)
        assert {level for _, _, level, _ in told(claim)} == {reminders.level_on(due, warn, today)} - {None}
        set_day(claim, None)  # out of the next case's sweep


def test_the_sweep_reads_the_due_claims_in_batches_by_the_index(desk):
    claims = [deadline(claim_in(desk, ClaimStatus.VALIDATED)) for _ in range(5)]
    later = deadline(claim_in(desk, ClaimStatus.VALIDATED), due_on=D + 30 * DAY, warn_on=D + 20 * DAY)
    with QueryCounter() as queries:
        found = reminders.sweep(today=D - DAY, batch=2)
    assert (found.claims, found.batches) == (5, 3)
    assert remind_on(later) == D + 20 * DAY and told(later) == []
    updates = [s for s in queries.statements if s.lstrip("('\"").upper().startswith("UPDATE")]
    assert len(updates) == 4  # one per batch, and the last that finds none
    assert all('"remind_on" <=' in s and "LIMIT" in s and '"reminder_due"' in s for s in updates)
    assert not [s for s in updates if 'UPDATE "claim"' in s]  # the claims' table (and its indexes) left alone
    assert {len(told(c)) for c in claims} == {1}


def test_the_reminders_sweep_uses_the_remind_on_index(desk):
    deadline(claim_in(desk, ClaimStatus.VALIDATED))
    today = (D - DAY).isoformat()
    if is_postgres():
        db.execute_sql("SET enable_seqscan = off")  # a tiny table: ask whether the index can be used at all
        plan = " ".join(r[0] for r in db.execute_sql(
            'EXPLAIN SELECT "claim_id" FROM "reminder_due" WHERE "remind_on" <= %s ORDER BY "remind_on" LIMIT 10',
            [today]))
        db.execute_sql("RESET enable_seqscan")
    else:
        plan = " ".join(str(r[-1]) for r in db.execute_sql(
            'EXPLAIN QUERY PLAN SELECT "claim_id" FROM "reminder_due" WHERE "remind_on" <= ? ORDER BY "remind_on" '
            'LIMIT 10',
            [today]))
    assert "reminderdue_remind_on" in plan, plan


# ---- a claim changed while the sweep runs ---------------------------------------------------

def _other_connection(app):
    """A second connection to the test database, outside peewee, in manual transaction mode."""
    url = app.config["DATABASE_URL"]
    if is_postgres():
        return psycopg2.connect(url), "%s"
    return sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=10), "?"


def test_a_claim_changed_while_the_sweep_waits_keeps_its_new_reminder_day(app, desk):
    moved = deadline(claim_in(desk, ClaimStatus.ASSIGNED))
    control = deadline(claim_in(desk, ClaimStatus.ASSIGNED))
    later = D + 60 * DAY
    conn, p = _other_connection(app)
    cursor = conn.cursor()
    if not is_postgres():
        cursor.execute("BEGIN IMMEDIATE")
    # Another transaction moves the deadline (a lawyer's change) and has not committed yet.
    cursor.execute(f'UPDATE "claim" SET "next_due_on" = {p}, "next_warn_on" = {p} WHERE "id" = {p}',
                   [later.isoformat(), (later - 7 * DAY).isoformat(), moved.id])
    cursor.execute(f'UPDATE "reminder_due" SET "remind_on" = {p}, "due_on" = {p}, "warn_on" = {p} WHERE "claim_id" = {p}',
                   [(later - 7 * DAY).isoformat(), later.isoformat(), (later - 7 * DAY).isoformat(), moved.id])
    outcome = {}

    def run():
        db.connect(reuse_if_open=True)
        try:
            outcome["result"] = reminders.sweep(today=D - DAY)
        finally:
            db.close()

    sweeper = threading.Thread(target=run)
    sweeper.start()
    time.sleep(1.0)
    waited = sweeper.is_alive()  # the sweep met the uncommitted change and waits for it
    conn.commit() if is_postgres() else cursor.execute("COMMIT")
    sweeper.join(20)
    conn.close()
    assert waited and not sweeper.is_alive()
    assert remind_on(moved) == later - 7 * DAY  # the change's reminder day, not one computed from the old deadline
    assert told(moved) == []
    assert told(control) == [("queue", D, "due_soon", f"lawyer:{desk.lawyer.id}")]
    assert outcome["result"].claims == 1


def test_the_sweep_leaves_the_claims_version_alone(desk):
    claim = deadline(claim_in(desk, ClaimStatus.ASSIGNED))
    reminders.sweep(today=D - DAY)
    assert Claim.get_by_id(claim.id).version == claim.version


def test_levels_agree_with_next_due_except_the_last_day_without_a_warning():
    for warn in (D - 3 * DAY, None):
        for today in (D - 5 * DAY, D - 3 * DAY, D, D + DAY):
            ours, theirs = reminders.level_on(D, warn, today), next_due.level_of(D, warn, today)
            if warn is None and today == D:
                assert (ours, theirs) == ("due_soon", "in_time")
            else:
                assert ours == (None if theirs == "in_time" else theirs)
