"""The day of a claim's next reminder (`ReminderDue`), written by every change of its next
deadline in the same transaction, cleared when there is none, kept when it stays the same."""
from __future__ import annotations

import datetime as dt

from models import Claim, ClaimStatus, QueueLimit, ReminderDue, Role
from workflows import deadlines, engine, intake, next_due, reminders
from workflows.bulk import apply_many

from .conftest import QueryCounter, csrf_token, login
from .test_next_due import filed, limits
from .test_workflows import TODAY, claim_in, desk, new_claim  # noqa: F401 - fixtures and builders

DAY = dt.timedelta(days=1)


def row(claim) -> tuple | None:
    """(day, due, warn) of the claim's pending reminder, or None when it has none."""
    found = ReminderDue.get_or_none(ReminderDue.claim == claim.id)
    return (found.remind_on, found.due_on, found.warn_on) if found else None


def of_claim(claim) -> tuple | None:
    """The reminder row a claim's stored next deadline calls for: its warning day first."""
    saved = Claim.get_by_id(claim.id)
    if saved.next_due_on is None:
        return None
    return (saved.next_warn_on or saved.next_due_on, saved.next_due_on, saved.next_warn_on)


def test_a_new_claim_and_each_transition_schedule_the_reminder_and_closing_it_clears_it(desk):
    limits(received=(1, 2), incomplete=(10, 15))
    manager = desk.users[Role.ASP_MANAGER]
    claim = Claim.get_by_id(new_claim(desk, documents=("denuncia",)).id)
    assert row(claim) == (TODAY + DAY, TODAY + 2 * DAY, TODAY + DAY)
    claim = engine.apply("mark_incomplete", claim, manager, missing=["doc:mandato"])
    assert row(claim) == (TODAY + 10 * DAY, TODAY + 15 * DAY, TODAY + 10 * DAY)
    engine.apply("drop", claim, manager, reason="no_cover")
    assert row(claim) is None


def test_a_transition_writes_the_reminder_row_in_its_transaction_and_never_updates_its_day_on_claim(desk):
    limits(validated=(1, 2), assigned=(7, 10))
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    with QueryCounter() as queries:
        claim = engine.apply("self_assign", claim, desk.users[Role.ASP_MANAGER])
    assert row(claim) == of_claim(claim) and row(claim)[1] == TODAY + 10 * DAY
    upserts = [s for s in queries.statements if '"reminder_due"' in s]
    assert len(upserts) == 1 and "ON CONFLICT" in upserts[0]
    assert not any("remind_on" in s for s in queries.statements if s.lstrip('"').upper().startswith('UPDATE "CLAIM"'))


def test_a_bulk_action_schedules_each_claims_own_reminder(desk):
    limits(validated=(1, 2), assigned=(7, 10))
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(3)]
    near = TODAY - 730 * DAY + 2 * DAY  # prescription first for one of them
    Claim.update(accident_date=near).where(Claim.id == claims[0].id).execute()
    result = apply_many("self_assign", [c.id for c in claims], desk.users[Role.ASP_MANAGER])
    assert len(result.succeeded) == 3
    assert [row(c) for c in claims] == [of_claim(c) for c in claims]
    assert row(claims[0])[1] == deadlines.prescription(near).due and row(claims[1])[1] == TODAY + 10 * DAY


def test_a_bulk_action_that_leaves_the_deadline_as_it_was_keeps_the_reminder_day(desk):
    limits(validated=(5, 9), assigned=(7, 10))
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(2)]
    near = TODAY - 730 * DAY + DAY  # prescription in a day or two: earlier than either queue limit
    Claim.update(accident_date=near).where(Claim.id.in_([c.id for c in claims])).execute()
    next_due.recompute_all()
    due = deadlines.prescription(near).due
    assert {row(c)[1] for c in claims} == {due}
    reminders.sweep(today=TODAY)  # the warnings said: the day moved to the breach's
    assert {row(c)[0] for c in claims} == {due + DAY}
    result = apply_many("self_assign", [c.id for c in claims], desk.users[Role.ASP_MANAGER])
    assert len(result.succeeded) == 2
    assert {Claim.get_by_id(c.id).status for c in claims} == {ClaimStatus.ASSIGNED}
    # the same deadline in the new state: its warning, said already, is not due again
    assert {row(c)[0] for c in claims} == {due + DAY}


def test_a_wincar_seguito_that_moves_the_offer_term_moves_its_reminder(desk, app):
    limits()
    claim = filed(desk, TODAY, signed_by_both=True, personal_injury=False)
    before = row(claim)
    assert before == of_claim(claim)
    received = intake.receive_followup(Claim.get_by_id(claim.id), {"signed_by_both": False}, [],
                                       app.config["STORAGE_DIR"])
    assert row(claim) == of_claim(received.claim) and row(claim) != before


def test_a_seguito_that_leaves_the_deadline_keeps_the_reminder_day_where_the_sweep_moved_it(desk, app):
    limits()
    claim = filed(desk, TODAY, signed_by_both=True, personal_injury=False)
    due = row(claim)[1]
    reminders.sweep(today=due - 2 * DAY)  # in its last week: warned, its day is now the day after the term
    assert row(claim)[0] == due + DAY
    intake.receive_followup(Claim.get_by_id(claim.id), {"customer_name": "Nome Corretto"}, [],
                            app.config["STORAGE_DIR"])
    assert Claim.get_by_id(claim.id).customer_name == "Nome Corretto"
    assert row(claim)[0] == due + DAY  # not back to the warning day


def test_a_limit_recomputed_moves_the_reminders_of_its_claims_and_a_removed_one_clears_them(desk):
    limits(validated=(1, 2))
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(3)]
    Claim.update(accident_date=None).where(Claim.id.in_([c.id for c in claims])).execute()
    QueueLimit.update(warning_days=3, breach_days=5).execute()
    assert next_due.recompute_for_limit("validated") == 3
    assert {row(c) for c in claims} == {(TODAY + 3 * DAY, TODAY + 5 * DAY, TODAY + 3 * DAY)}
    QueueLimit.delete().execute()
    assert next_due.recompute_for_limit("validated") == 3
    assert {row(c) for c in claims} == {None}


def test_the_claim_form_that_moves_the_deadline_moves_the_reminder(client, desk):
    from .test_claim_edits import FORM
    limits()
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    login(client, desk.users[Role.ADMIN])
    response = client.post(f"/admin/claim/edit/?id={claim.id}", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), **FORM, "customer_name": "Cliente",
        "accident_date": "25/04/2025"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    # prescription, 25/04/2027 a Sunday -> 26/04, is reminded 60 days ahead: from 25/02/2027
    assert row(claim) == (dt.date(2027, 2, 25), dt.date(2027, 4, 26), dt.date(2027, 2, 25))


def test_the_sweep_deletes_the_row_once_the_breach_is_said(desk):
    limits(assigned=(7, 10))
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    reminders.sweep(today=TODAY + 11 * DAY)
    assert row(claim) is None
    assert reminders.sweep(today=TODAY + 12 * DAY).claims == 0
