"""The call centre's queue limits: open states only, in calendar or working days, and every
change or removal recomputed for the claims it touched."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from models import Claim, ClaimStatus, InvalidValue, QueueLimit, ReminderDue, Role, db
from workflows import deadlines, next_due, queue_limits

from .conftest import QueryCounter, csrf_token, login
from .test_mail import queue, run_queued, worker_app  # noqa: F401 - fixtures
from .test_next_due import limits
from .test_workflows import TODAY, claim_in, desk  # noqa: F401 - fixtures and builders

DAY = dt.timedelta(days=1)
FRIDAY = dt.date(2026, 12, 4)
OPEN_LABELS = ["Ricevuta", "Incompleta", "Validata", "Affidata", "Richiesta inviata", "Rimborso parziale"]


def entered_on(claim, day: dt.date) -> Claim:
    """The claim as if it had entered its state at 09:00 (Rome, 08:00 UTC) on `day`."""
    Claim.update(status_since=dt.datetime.combine(day, dt.time(8, 0))).where(Claim.id == claim.id).execute()
    return Claim.get_by_id(claim.id)


def stored(claim):
    claim = Claim.get_by_id(claim.id)
    return claim.next_due_kind, claim.next_due_on, claim.next_warn_on


def fake_deadline(claim, day=dt.date(2027, 1, 4)):
    """What a limit on a final state left on a closed claim: a next deadline and its reminder."""
    Claim.update(next_due_on=day, next_due_kind="queue", next_warn_on=day - DAY).where(Claim.id == claim.id).execute()
    ReminderDue.insert(claim=claim.id, remind_on=day - DAY, due_on=day, warn_on=day - DAY).execute()


# ---- open states only ------------------------------------------------------------------

@pytest.mark.parametrize("status", ClaimStatus.FINAL)
def test_a_limit_on_a_final_state_is_refused_by_the_model_in_italian(desk, status):
    with pytest.raises(InvalidValue, match="è finale: una pratica chiusa non ha tempi di permanenza") as caught:
        QueueLimit.create(status=status, warning_days=1, breach_days=2)
    assert caught.value.field == "status"
    assert QueueLimit.select().where(QueueLimit.status == status).count() == 0


def test_the_limits_form_offers_only_the_open_states_and_refuses_a_final_one(client, desk):
    limits()
    login(client, desk.users[Role.ADMIN])
    page = client.get("/admin/queuelimit/new/").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="status".*?</select>', page, re.S).group(0)
    assert re.findall(r"<option[^>]*>\s*([^<]+?)\s*</option>", select) == OPEN_LABELS
    response = client.post("/admin/queuelimit/new/", data={
        "csrf_token": csrf_token(client, "/admin/queuelimit/new/"), "status": "closed",
        "warning_days": "1", "breach_days": "2"})
    page = response.get_data(as_text=True)
    assert "is-invalid" in re.search(r'<select[^>]*name="status"[^>]*>', page).group(0)
    assert "Non è una opzione valida" in page
    assert QueueLimit.select().count() == 0


def test_a_claim_entering_a_final_state_gets_no_deadline_even_from_a_limit_left_on_it(desk):
    limits()
    QueueLimit.insert(status="closed", warning_days=1, breach_days=2).execute()  # as one saved before the check
    closed = claim_in(desk, ClaimStatus.CLOSED)
    assert stored(closed) == (None, None, None)
    assert next_due.all_deadlines(closed, QueueLimit.get(QueueLimit.status == "closed")) == []


def test_recompute_all_clears_and_counts_the_fake_deadline_of_every_closed_claim(desk):
    limits(validated=(1, 2))
    closed, dropped = claim_in(desk, ClaimStatus.CLOSED), claim_in(desk, ClaimStatus.DROPPED)
    validated = claim_in(desk, ClaimStatus.VALIDATED)
    for claim in (closed, dropped):
        fake_deadline(claim)
    assert next_due.recompute_all() == 2  # `recompute-deadlines` says so: "2 pratiche aggiornate"
    assert stored(closed) == stored(dropped) == (None, None, None)
    assert ReminderDue.select().where(ReminderDue.claim.in_([closed.id, dropped.id])).count() == 0
    assert stored(validated) == ("queue", TODAY + 2 * DAY, TODAY + DAY)  # an open claim keeps its own
    assert ReminderDue.get_by_id(validated.id).due_on == TODAY + 2 * DAY
    assert next_due.recompute_all() == 0


def test_recompute_deadlines_reports_the_closed_claims_it_cleared(desk):
    limits()
    fake_deadline(claim_in(desk, ClaimStatus.CLOSED))
    result = desk.app.test_cli_runner().invoke(args=["recompute-deadlines"])
    assert result.exit_code == 0 and "Scadenze ricalcolate: 1 pratiche aggiornate." in result.output


def test_the_recompute_after_a_limit_on_a_final_state_was_removed_clears_its_claims(desk):
    limits()
    closed = claim_in(desk, ClaimStatus.CLOSED)
    fake_deadline(closed)
    assert next_due.recompute_for_limit("closed") == 1
    assert stored(closed) == (None, None, None) and ReminderDue.get_or_none(ReminderDue.claim == closed.id) is None


def test_the_migration_removes_limits_on_final_states_and_the_deadlines_they_left(desk):
    from models.migrate import router
    limits(received=(1, 2))
    closed, received = claim_in(desk, ClaimStatus.CLOSED), claim_in(desk, ClaimStatus.RECEIVED)
    fake_deadline(closed)
    migrations = router()
    while migrations.done[-1] != "021_queue_limits":  # the later ones first
        migrations.rollback()
    migrations.rollback()
    try:
        db.execute_sql('INSERT INTO "queue_limit" ("created_at", "status", "warning_days", "breach_days") '
                       "VALUES (CURRENT_TIMESTAMP, 'closed', 1, 2)")
    finally:
        migrations.run()
    assert [limit.status for limit in QueueLimit.select()] == ["received"]
    assert stored(closed) == (None, None, None) and ReminderDue.get_or_none(ReminderDue.claim == closed.id) is None
    assert stored(received) == ("queue", TODAY + 2 * DAY, TODAY + DAY)  # an open claim's deadline stays
    assert QueueLimit.get(QueueLimit.status == "received").working_days is False


# ---- a change or a removal recomputes the claims it touched -----------------------------

def test_a_removed_limit_takes_its_deadline_off_its_claims(desk):
    limits(validated=(1, 2))
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(2)]
    QueueLimit.delete().execute()
    assert queue_limits.limit_changed("validated") == 2
    for claim in claims:
        assert stored(claim)[0] != "queue"  # the legal terms, if any, remain


def test_limits_deleted_with_the_grids_bulk_action_are_recomputed_by_the_worker(client, desk, worker_app, queue):
    limits(validated=(1, 2), received=(1, 3))
    validated, received = claim_in(desk, ClaimStatus.VALIDATED), claim_in(desk, ClaimStatus.RECEIVED)
    queue.flush()
    rows = [limit.id for limit in QueueLimit.select()]
    login(client, desk.users[Role.ADMIN])
    client.post("/admin/queuelimit/action/", data={
        "csrf_token": csrf_token(client, "/admin/queuelimit/"), "action": "delete", "rowid": rows,
        "url": "/admin/queuelimit/"})
    assert QueueLimit.select().count() == 0
    assert stored(validated)[0] == "queue"  # not in the request
    assert run_queued() == 2  # one recompute per state
    assert stored(validated)[0] != "queue" and stored(received)[0] != "queue"


# ---- working days ----------------------------------------------------------------------

@pytest.mark.parametrize("start, days, expected", [
    # Friday 04/12/2026 + 2: Saturday and Sunday do not count, Monday 07/12 is the 1st,
    # Tuesday 08/12 is the Immacolata (a public holiday), Wednesday 09/12 the 2nd.
    (FRIDAY, 2, dt.date(2026, 12, 9)),
    (FRIDAY, 1, dt.date(2026, 12, 7)),  # the first working day after Friday is Monday
    # Saturday 05/12 (the day entered is not counted, whatever it is): Monday 07/12.
    (dt.date(2026, 12, 5), 1, dt.date(2026, 12, 7)),
    # Wednesday 23/12 + 3: Thursday 24 (1st), Christmas 25 and Santo Stefano 26, Sunday 27,
    # Monday 28 (2nd), Tuesday 29 (3rd).
    (dt.date(2026, 12, 23), 3, dt.date(2026, 12, 29)),
    (FRIDAY, 0, FRIDAY),  # a warning of 0 days: the day itself
])
def test_working_days_are_monday_to_friday_without_public_holidays(start, days, expected):
    assert deadlines.add_working_days(start, days) == expected


def test_a_two_working_day_limit_entered_on_friday_does_not_breach_over_the_weekend_and_the_holiday(desk):
    limits(received=(1, 2))
    QueueLimit.update(working_days=True).execute()
    claim = entered_on(claim_in(desk, ClaimStatus.RECEIVED), FRIDAY)
    assert next_due.recompute_for_limit("received") == 1
    # Entered Friday 04/12/2026; 2 working days: Monday 07/12 (1st), Tuesday 08/12 is the
    # Immacolata, Wednesday 09/12 (2nd): due on 09/12, overdue from Thursday 10/12. The
    # warning, 1 working day: Monday 07/12 (in calendar days it would be Saturday 05/12).
    assert stored(claim) == ("queue", dt.date(2026, 12, 9), dt.date(2026, 12, 7))
    found = next_due.queue_deadline(claim, QueueLimit.get())
    assert found.level(dt.date(2026, 12, 6)) == next_due.IN_TIME  # Sunday: a calendar limit had breached by now
    assert found.level(dt.date(2026, 12, 8)) == next_due.DUE_SOON
    assert found.level(dt.date(2026, 12, 9)) == next_due.DUE_SOON
    assert found.level(dt.date(2026, 12, 10)) == next_due.OVERDUE
    assert found.basis == "al massimo 2 giorni lavorativi nello stato attuale, dal 04/12/2026 (preavviso dopo 1)"
    # In calendar days (the default), the same limit falls on Sunday 06/12, warned on Saturday 05/12.
    QueueLimit.update(working_days=False).execute()
    assert next_due.recompute_for_limit("received") == 1
    assert stored(claim) == ("queue", dt.date(2026, 12, 6), dt.date(2026, 12, 5))
    assert next_due.queue_deadline(claim, QueueLimit.get()).basis.startswith("al massimo 2 giorni nello stato")


def test_a_batch_with_working_day_limits_reads_no_more_than_the_claims(desk):
    limits(received=(1, 2), validated=(1, 2))
    QueueLimit.update(working_days=True).execute()
    claims = [entered_on(claim_in(desk, status), FRIDAY) for status in (ClaimStatus.RECEIVED, ClaimStatus.VALIDATED)]
    loaded = next_due.limits()
    with QueryCounter() as queries:
        found = next_due.columns_for([(claim, {}) for claim in claims], loaded, {})
    assert queries.count == 0
    assert {values["next_due_on"] for values in found.values()} == {dt.date(2026, 12, 9)}


def test_the_call_centre_sets_working_days_in_the_grid_and_the_claim_page_says_them(client, desk):
    limits(received=(1, 2))
    row = QueueLimit.get()
    claim = entered_on(claim_in(desk, ClaimStatus.RECEIVED), FRIDAY)
    login(client, desk.users[Role.ADMIN])
    form = client.get(f"/admin/queuelimit/edit/?id={row.id}").get_data(as_text=True)
    assert "Conta in giorni lavorativi" in form
    client.post(f"/admin/queuelimit/edit/?id={row.id}", data={
        "csrf_token": csrf_token(client, f"/admin/queuelimit/edit/?id={row.id}"), "status": "received",
        "warning_days": "1", "breach_days": "2", "working_days": "y"})
    assert QueueLimit.get_by_id(row.id).working_days is True
    grid = client.get("/admin/queuelimit/").get_data(as_text=True)
    assert "Giorni contati" in grid and "lavorativi" in grid
    next_due.recompute_for_limit("received")  # the worker's part (tests/test_next_due.py drives it)
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    card = page[page.index('id="deadlines"'):]
    card = card[:card.index("</section>")]
    assert "al massimo 2 giorni lavorativi nello stato attuale, dal 04/12/2026" in card
    assert "09/12/2026" in card
    assert "preavviso dopo 1 giorni lavorativi, scadenza dopo 2" in card


def test_a_recompute_that_fails_in_the_worker_is_tried_again_not_lost(desk, worker_app, queue, monkeypatch):
    from tasks.reminders import recompute_after_limit

    def database_away(*statuses):
        raise db.OperationalError("database is locked")

    limits(validated=(1, 2))
    monkeypatch.setattr(queue_limits, "limit_changed", database_away)
    recompute_after_limit("validated")
    run_queued()
    assert queue.scheduled_count() == 1  # a minute later, again
