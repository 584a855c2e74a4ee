"""What the terms need, recorded by events; queue limits; the next deadline stored on the claim."""
from __future__ import annotations

import datetime as dt
import importlib

import pytest

from models import Claim, ClaimStatus, OutboundEmail, PrescriptionInterruption, QueueLimit, Role, StatusChange, db
from workflows import clock, deadline_store, deadlines, engine, next_due
from workflows.bulk import apply_many
from workflows.errors import InvalidData, NotAllowed

from .conftest import QueryCounter
from .test_mail import queue, worker_app  # noqa: F401 - fixtures
from .test_workflows import TODAY, claim_in, desk, new_claim  # noqa: F401 - fixtures and builders

DAY = dt.timedelta(days=1)


def limits(**days):
    """Queue limits as (warning, breach) per state, replacing any there are."""
    QueueLimit.delete().execute()
    for status, (warning, breach) in days.items():
        QueueLimit.create(status=status, warning_days=warning, breach_days=breach)


def filed(desk, filed_on, *, accident=dt.date(2026, 2, 20), **data):
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    Claim.update(accident_date=accident).where(Claim.id == claim.id).execute()
    claim = Claim.get_by_id(claim.id)
    return engine.apply("file_claim", claim, desk.users[Role.LAWYER], filed_on=filed_on, **data)


def last_history(claim):
    return StatusChange.select().where(StatusChange.claim == claim).order_by(StatusChange.id.desc()).first()


def test_the_migration_seeds_default_queue_limits_once(app):
    migration = importlib.import_module("migrations.009_deadlines")
    QueueLimit.delete().execute()
    migration._seed_limits(db)
    migration._seed_limits(db)
    rows = {q.status: (q.warning_days, q.breach_days) for q in QueueLimit.select()}
    assert rows == {"received": (1, 2), "incomplete": (10, 15), "validated": (1, 2), "assigned": (7, 10)}


def test_filing_takes_the_portals_verdict_as_procedure_unless_the_lawyer_chooses(desk):
    limits()
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    Claim.update(direct_compensation=True).where(Claim.id == claim.id).execute()
    saved = engine.apply("file_claim", Claim.get_by_id(claim.id), desk.users[Role.LAWYER], filed_on=TODAY)
    assert saved.procedure == "direct" and "indennizzo diretto" in last_history(saved).note
    other = filed(desk, TODAY, procedure="ordinary")
    assert other.procedure == "ordinary"
    with pytest.raises(InvalidData) as error:
        filed(desk, "31/02/2026", procedure="card")
    assert {name for name, _ in error.value.errors} == {"filed_on", "procedure"}  # both told at once


def test_missing_items_under_direct_compensation_suspend_the_offer_term(desk):
    limits()
    lawyer = desk.users[Role.LAWYER]
    claim = filed(desk, "03/03/2026", procedure="direct")
    # 60 days from 03/03/2026: 02/05/2026, a Saturday
    assert (claim.next_due_kind, claim.next_due_on) == ("offer", dt.date(2026, 5, 2))
    assert not engine.can("send_missing", claim, lawyer)  # nothing asked yet
    claim = engine.apply("request_missing", claim, lawyer, requested_on="12/03/2026", items="foto del danno")
    assert (claim.missing_requested_on, claim.missing_requested_items) == (dt.date(2026, 3, 12), "foto del danno")
    assert "sospeso fino a quando l'integrazione arriva alla compagnia" in last_history(claim).note
    # while they have not reached the insurer the offer has no date: the next deadline is
    # prescription, two years from the claim letter's receipt (03/03/2028, a Friday)
    assert (claim.next_due_kind, claim.next_due_on) == ("prescription", dt.date(2028, 3, 3))
    assert not engine.can("request_missing", claim, lawyer)
    claim = engine.apply("send_missing", claim, lawyer, sent_on="18/03/2026")
    assert (claim.next_due_kind, claim.next_due_on) == ("prescription", dt.date(2028, 3, 3))  # sent, not received
    assert "in attesa di ricevuta" in last_history(claim).note
    claim = engine.apply("receive_missing", claim, lawyer, received_on="20/03/2026")
    assert (claim.next_due_kind, claim.next_due_on) == ("offer", dt.date(2026, 5, 11))
    assert "Offerta della compagnia: 11/05/2026" in last_history(claim).note
    assert OutboundEmail.select().where(OutboundEmail.claim == claim).count() >= 3


def test_missing_items_under_the_ordinary_procedure_restart_the_offer_term(desk):
    limits()
    lawyer = desk.users[Role.LAWYER]
    claim = filed(desk, "03/03/2026", procedure="ordinary")
    claim = engine.apply("request_missing", claim, lawyer, requested_on="12/03/2026", items="preventivo")
    claim = engine.apply("send_missing", claim, lawyer, sent_on="18/03/2026", received_on="20/03/2026")
    assert (claim.next_due_kind, claim.next_due_on) == ("offer", dt.date(2026, 5, 19))
    with pytest.raises(NotAllowed):
        engine.apply("send_missing", claim, lawyer, sent_on="21/03/2026")


def test_a_request_for_missing_items_after_30_days_leaves_the_offer_term_where_it_was(desk):
    limits()
    lawyer = desk.users[Role.LAWYER]
    claim = filed(desk, "03/03/2026", procedure="ordinary")
    claim = engine.apply("request_missing", claim, lawyer, requested_on="03/04/2026", items="preventivo")
    assert "oltre i 30 giorni" in last_history(claim).note
    assert (claim.next_due_kind, claim.next_due_on) == ("offer", dt.date(2026, 5, 2))


def test_missing_items_cannot_be_sent_before_they_are_asked_for(desk):
    lawyer = desk.users[Role.LAWYER]
    claim = filed(desk, "03/03/2026")
    with pytest.raises(InvalidData) as error:
        engine.apply("request_missing", claim, lawyer, requested_on="01/03/2026", items="")
    assert {name for name, _ in error.value.errors} == {"requested_on", "items"}
    claim = engine.apply("request_missing", claim, lawyer, requested_on="12/03/2026", items="foto")
    with pytest.raises(InvalidData, match="prima che la compagnia"):
        engine.apply("send_missing", claim, lawyer, sent_on="11/03/2026")


def test_the_answer_to_the_offer_starts_the_15_day_payment_term(desk):
    limits()
    lawyer = desk.users[Role.LAWYER]
    claim = filed(desk, "02/11/2025", accident=dt.date(2025, 10, 1))
    assert not engine.can("answer_offer", claim, lawyer)  # no offer yet
    claim = engine.apply("record_offer", claim, lawyer, amount="1.200,00", on_date="20/11/2025")
    assert claim.offer_received_on == dt.date(2025, 11, 20)
    # the offer came: its term is met; left unanswered, the insurer pays it once 30 days have run
    # (20/12/2025), within 15 more: 04/01/2026, a Sunday -> 05/01/2026 (art. 148 c.8 CdA)
    assert (claim.next_due_kind, claim.next_due_on) == ("payment", dt.date(2026, 1, 5))
    with pytest.raises(InvalidData) as error:
        engine.apply("answer_offer", claim, lawyer, answer="maybe", answered_on="19/11/2025")
    assert {name for name, _ in error.value.errors} == {"answer", "answered_on"}
    claim = engine.apply("answer_offer", claim, lawyer, answer="refused", answered_on="08/12/2025",
                         received_on="10/12/2025")
    # from its receipt: 10/12 + 15 = 25/12 Christmas, 26/12 St Stephen, then Saturday 27/12/2025
    assert (claim.offer_answer, claim.next_due_kind, claim.next_due_on) == ("refused", "payment", dt.date(2025, 12, 27))
    assert "Pagamento dopo la risposta all'offerta: 27/12/2025" in last_history(claim).note
    assert not engine.can("answer_offer", claim, lawyer)


def test_each_demand_is_kept_and_interrupts_from_the_day_it_reached_the_insurer(desk):
    limits()
    lawyer = desk.users[Role.LAWYER]
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    Claim.update(accident_date=dt.date(2024, 2, 29)).where(Claim.id == claim.id).execute()
    claim = Claim.get_by_id(claim.id)
    claim = engine.apply("interrupt_prescription", claim, lawyer, sent_on="29/02/2024", received_on="29/02/2024",
                         means="pec")
    # from 29/02/2024: no 29/02/2026, so 28/02/2026, a Saturday
    assert claim.next_due_on == dt.date(2026, 2, 28) and claim.next_due_kind == "prescription"
    claim = engine.apply("interrupt_prescription", claim, lawyer, sent_on="10/01/2026", means="raccomandata",
                         note="diffida dello studio")
    # sent, not yet received: it interrupts nothing yet, and the page says so
    assert claim.next_due_on == dt.date(2026, 2, 28)
    assert "in attesa di ricevuta" in last_history(claim).note
    pending = PrescriptionInterruption.get(PrescriptionInterruption.on_date == dt.date(2026, 1, 10))
    claim = engine.apply("receive_demand", claim, lawyer, demand=str(pending.id), received_on="14/01/2026")
    # from its receipt, 14/01/2026: 14/01/2028, a Friday
    assert claim.next_due_on == dt.date(2028, 1, 14)
    older = engine.apply("interrupt_prescription", claim, lawyer, sent_on="01/06/2025", received_on="03/06/2025",
                         means="pec")
    assert older.next_due_on == dt.date(2028, 1, 14)  # an older letter recorded late moves nothing
    rows = [(i.on_date, i.received_on, i.means, i.note) for i in PrescriptionInterruption.select().where(
        PrescriptionInterruption.claim == claim).order_by(PrescriptionInterruption.on_date)]
    assert rows == [(dt.date(2024, 2, 29), dt.date(2024, 2, 29), "pec", None),
                    (dt.date(2025, 6, 1), dt.date(2025, 6, 3), "pec", None),
                    (dt.date(2026, 1, 10), dt.date(2026, 1, 14), "raccomandata", "diffida dello studio")]
    assert "Prescrizione del diritto: 14/01/2028" in last_history(older).note
    with pytest.raises(InvalidData) as error:
        engine.apply("interrupt_prescription", older, lawyer, sent_on="", means="fax")
    assert {name for name, _ in error.value.errors} == {"sent_on", "means"}


def test_a_letter_sent_after_the_right_prescribed_is_refused(desk):
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    Claim.update(accident_date=dt.date(2024, 1, 10)).where(Claim.id == claim.id).execute()
    with pytest.raises(InvalidData, match="prescritto dal 10/01/2026"):
        engine.apply("interrupt_prescription", Claim.get_by_id(claim.id), desk.users[Role.LAWYER],
                     sent_on="15/01/2026", means="pec")


def test_the_queue_clock_of_each_state_is_its_own_limit_from_status_since(desk):
    limits(received=(1, 2), incomplete=(10, 15), validated=(1, 2), assigned=(7, 10))
    manager = desk.users[Role.ASP_MANAGER]
    claim = new_claim(desk, documents=("denuncia",))
    claim = Claim.get_by_id(claim.id)
    assert (claim.next_due_kind, claim.next_due_on, claim.next_warn_on) == ("queue", TODAY + 2 * DAY, TODAY + DAY)
    claim = engine.apply("mark_incomplete", claim, manager, missing=["doc:mandato"])
    # incomplete waits on the repairer: its own 15 days, from the day it became incomplete
    assert (claim.next_due_kind, claim.next_due_on, claim.next_warn_on) == ("queue", TODAY + 15 * DAY,
                                                                          TODAY + 10 * DAY)
    found = next_due.next_deadline(claim, QueueLimit.get(QueueLimit.status == "incomplete"))
    assert found.days_left(TODAY) == 15 and found.level(TODAY) == next_due.IN_TIME
    assert found.level(TODAY + 10 * DAY) == next_due.DUE_SOON
    assert found.level(TODAY + 15 * DAY) == next_due.DUE_SOON and found.level(TODAY + 16 * DAY) == next_due.OVERDUE
    dropped = engine.apply("drop", claim, manager, reason="no_cover")
    assert (dropped.next_due_on, dropped.next_due_kind, dropped.next_warn_on) == (None, None, None)


def test_filed_has_no_queue_limit_the_legal_term_governs_it(desk):
    limits(assigned=(7, 10))
    claim = filed(desk, TODAY)
    assert claim.next_due_kind == "offer"
    assert claim.next_due_on == deadlines.add_days(TODAY, 30 if claim.signed_by_both else 60)[0]


def test_the_earliest_term_wins_even_over_the_queue_limit(desk):
    limits(assigned=(7, 10))
    soon = clock.today() - 730 * DAY + 3 * DAY
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    Claim.update(accident_date=soon).where(Claim.id == claim.id).execute()
    claim = engine.apply("self_assign", Claim.get_by_id(claim.id), desk.users[Role.ASP_MANAGER])
    expected = deadlines.prescription(soon).due
    assert (claim.next_due_kind, claim.next_due_on) == ("prescription", expected)


def test_bulk_writes_each_claims_own_next_deadline_in_the_grouped_update(desk):
    limits(assigned=(7, 10))
    manager = desk.users[Role.ASP_MANAGER]
    today = clock.today()
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(3)]
    near = today - 730 * DAY + 2 * DAY
    Claim.update(accident_date=near).where(Claim.id == claims[0].id).execute()
    Claim.update(accident_date=near + DAY).where(Claim.id == claims[1].id).execute()
    result = apply_many("self_assign", [c.id for c in claims], manager)
    assert len(result.succeeded) == 3
    got = [(c.next_due_kind, c.next_due_on) for c in (Claim.get_by_id(c.id) for c in claims)]
    assert got == [("prescription", deadlines.prescription(near).due),
                   ("prescription", deadlines.prescription(near + DAY).due),
                   ("queue", today + 10 * DAY)]


def test_a_limit_changed_applies_to_every_open_claim_of_its_state_in_batches(desk):
    limits(validated=(1, 2))
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(5)]
    assert {Claim.get_by_id(c.id).next_due_on for c in claims} == {TODAY + 2 * DAY}
    QueueLimit.update(warning_days=3, breach_days=5).execute()
    counts = {}
    for batch in (2, 100):
        Claim.update(next_due_on=None).execute()
        with QueryCounter() as queries:
            assert next_due.recompute_for_limit("validated", batch=batch) == 5
        counts[batch] = queries.count
        assert {Claim.get_by_id(c.id).next_due_on for c in claims} == {TODAY + 5 * DAY}
    assert counts[100] < counts[2]  # one read and one write per batch, never one per claim
    assert next_due.recompute_all() == 0  # nothing left to change


def test_the_grid_save_of_a_limit_queues_the_recompute_of_its_claims_for_the_worker(client, desk, worker_app, queue):
    from .conftest import csrf_token, login
    from .test_mail import run_queued
    limits(validated=(1, 2))
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    queue.flush()
    row = QueueLimit.get(QueueLimit.status == "validated")
    login(client, desk.users[Role.ADMIN])
    token = csrf_token(client, f"/admin/queuelimit/edit/?id={row.id}")
    response = client.post(f"/admin/queuelimit/edit/?id={row.id}", data={
        "csrf_token": token, "status": "validated", "warning_days": "4", "breach_days": "6"}, follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Le scadenze delle pratiche in stato Validata sono in ricalcolo" in page
    assert QueueLimit.get_by_id(row.id).breach_days == 6  # saved (committed) before the task was queued
    assert Claim.get_by_id(claim.id).next_due_on == TODAY + 2 * DAY  # not in the request
    assert run_queued() == 1
    assert Claim.get_by_id(claim.id).next_due_on == TODAY + 6 * DAY
    assert run_queued() == 0


def test_a_limit_moved_to_another_state_or_removed_recomputes_both_states(client, desk, worker_app, queue):
    from .conftest import csrf_token, login
    from .test_mail import run_queued
    limits(validated=(1, 2))
    validated, received = claim_in(desk, ClaimStatus.VALIDATED), claim_in(desk, ClaimStatus.RECEIVED)
    queue.flush()
    row = QueueLimit.get(QueueLimit.status == "validated")
    login(client, desk.users[Role.ADMIN])
    token = csrf_token(client, f"/admin/queuelimit/edit/?id={row.id}")
    client.post(f"/admin/queuelimit/edit/?id={row.id}", data={
        "csrf_token": token, "status": "received", "warning_days": "3", "breach_days": "4"})
    assert run_queued() == 1
    assert Claim.get_by_id(validated.id).next_due_on != TODAY + 2 * DAY  # its state has no limit now
    assert Claim.get_by_id(received.id).next_due_on == TODAY + 4 * DAY
    client.post("/admin/queuelimit/delete/", data={"csrf_token": token, "id": row.id})
    assert QueueLimit.select().count() == 0 and run_queued() == 1
    assert Claim.get_by_id(received.id).next_due_kind != "queue"


def test_a_recompute_leaves_alone_a_claim_changed_since_it_was_read(desk):
    limits(validated=(1, 2))
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    blank = {"next_due_on": None, "next_due_kind": None, "next_warn_on": None}
    assert deadline_store.store({claim.id: blank}, {claim.id: claim.version - 1}) == 0
    assert Claim.get_by_id(claim.id).next_due_on == TODAY + 2 * DAY
    assert deadline_store.store({claim.id: blank}, {claim.id: claim.version}) == 1
    assert Claim.get_by_id(claim.id).next_due_on is None


def test_many_claims_get_their_own_deadline_or_none_in_one_statement(desk):
    limits()
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(3)]
    day = dt.date(2027, 1, 4)
    mixed = {claims[0].id: {"next_due_on": day, "next_due_kind": "queue", "next_warn_on": None},
             claims[1].id: {"next_due_on": None, "next_due_kind": None, "next_warn_on": None},
             claims[2].id: {"next_due_on": day + DAY, "next_due_kind": "prescription", "next_warn_on": day}}
    with QueryCounter() as queries:
        assert deadline_store.store(mixed) == 3
    assert queries.count == 1
    assert [(c.next_due_on, c.next_due_kind, c.next_warn_on) for c in (Claim.get_by_id(c.id) for c in claims)] == [
        (day, "queue", None), (None, None, None), (day + DAY, "prescription", day)]


def test_someone_hurt_in_the_accident_does_not_make_a_claim_for_personal_injury(desk, app):
    """The 90 days are for a request that claims personal injury (art. 148 c.2), not for an
    accident in which someone was hurt: a WinCar seguito reporting injuries leaves the term."""
    from workflows import intake
    limits()
    claim = filed(desk, TODAY, signed_by_both=True, personal_injury=False)
    assert claim.next_due_kind == "offer"
    before = claim.next_due_on
    received = intake.receive_followup(Claim.get_by_id(claim.id), {"injuries": True}, [],
                                       app.config["STORAGE_DIR"])
    saved = Claim.get_by_id(received.claim.id)
    assert saved.injuries and not saved.personal_injury and saved.next_due_on == before
    # the lawyer files a request that claims it: 90 days
    other = filed(desk, TODAY, signed_by_both=True, personal_injury=True)
    assert other.next_due_on == deadlines.offer_due(TODAY, signed_by_both=True, personal_injury=True).due != before


@pytest.mark.parametrize("due, warn, level", [
    (TODAY - DAY, TODAY - 3 * DAY, "overdue"),
    (TODAY, TODAY - DAY, "due_soon"),
    (TODAY + DAY, TODAY, "due_soon"),
    (TODAY + 2 * DAY, TODAY + DAY, "in_time"),
    (TODAY + DAY, None, "in_time"),
])
def test_the_level_of_a_stored_deadline_is_the_same_in_python_and_in_sql(desk, due, warn, level):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    Claim.update(next_due_on=due, next_warn_on=warn).where(Claim.id == claim.id).execute()
    assert next_due.level_of(due, warn, TODAY) == level
    found = {name: Claim.select().where(Claim.id == claim.id, next_due.level_clause(name, TODAY)).exists()
             for name in (next_due.OVERDUE, next_due.DUE_SOON, next_due.IN_TIME)}
    assert found == {name: name == level for name in found}
