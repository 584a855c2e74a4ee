"""The legal terms of a claim read the facts as they reached their addressee (the issue "Terms a
lawyer can rely on"): each case below failed on the claim that kept only its last demand, ran the
terms from the day things were sent, and could record neither a refusal nor a payment's effect."""
from __future__ import annotations

import datetime as dt

import pytest

from models import Claim, ClaimStatus, PrescriptionInterruption, QueueLimit, Role, StatusChange
from workflows import deadlines, engine, next_due
from workflows.errors import InvalidData

from .test_workflows import claim_in, desk  # noqa: F401 - fixtures and builders


def day(text: str) -> dt.date:
    dd, mm, yyyy = text.split("/")
    return dt.date(int(yyyy), int(mm), int(dd))


def last_note(claim) -> str:
    return StatusChange.select().where(StatusChange.claim == claim).order_by(StatusChange.id.desc()).first().note


def entrusted(desk, accident: str):
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    Claim.update(accident_date=day(accident)).where(Claim.id == claim.id).execute()
    return Claim.get_by_id(claim.id)


def filed(desk, accident: str, filed_on: str, **data):
    return engine.apply("file_claim", entrusted(desk, accident), desk.users[Role.LAWYER], filed_on=filed_on, **data)


def term(claim, kind):
    return next((t for t in next_due.legal_terms(Claim.get_by_id(claim.id)) if t.kind == kind), None)


def test_every_demand_in_time_restarts_prescription_not_only_the_last(desk):
    QueueLimit.delete().execute()  # the next deadline is prescription's
    lawyer = desk.users[Role.LAWYER]
    claim = entrusted(desk, "10/06/2023")
    claim = engine.apply("interrupt_prescription", claim, lawyer, sent_on="02/11/2024", received_on="05/11/2024",
                         means="raccomandata")
    claim = engine.apply("interrupt_prescription", claim, lawyer, sent_on="29/08/2025", received_on="01/09/2025",
                         means="pec")
    # 05/11/2024 restarted the two years to 05/11/2026; 01/09/2025 came in time and restarted them
    # again: the right lives until 01/09/2027 (a Wednesday), not "prescritto dal 10/06/2025"
    assert (claim.next_due_kind, claim.next_due_on) == ("prescription", day("01/09/2027"))
    assert "Prescrizione del diritto: 01/09/2027" in last_note(claim)
    # and a third demand, of 01/12/2026, is in time too: two more years from it
    claim = engine.apply("interrupt_prescription", claim, lawyer, sent_on="27/11/2026", received_on="01/12/2026",
                         means="pec")
    assert claim.next_due_on == day("01/12/2028")
    # prescription is warned two months ahead: 01/12/2028 - 60 days
    assert claim.next_warn_on == day("01/12/2028") - dt.timedelta(days=60)


def test_a_demand_arrived_after_the_chain_had_run_out_is_refused(desk):
    claim = entrusted(desk, "10/06/2023")
    lawyer = desk.users[Role.LAWYER]
    claim = engine.apply("interrupt_prescription", claim, lawyer, sent_on="02/11/2024", received_on="05/11/2024",
                         means="raccomandata")
    with pytest.raises(InvalidData, match="prescritto dal 05/11/2026"):
        engine.apply("interrupt_prescription", claim, lawyer, sent_on="01/12/2026", means="pec")
    assert PrescriptionInterruption.select().where(PrescriptionInterruption.claim == claim).count() == 1


def test_the_claim_letters_receipt_is_itself_a_demand_that_interrupts(desk):
    claim = filed(desk, "10/06/2023", "05/11/2024")
    assert term(claim, deadlines.PRESCRIPTION).due == day("05/11/2026")
    assert "05/11/2024" in term(claim, deadlines.PRESCRIPTION).basis
    assert PrescriptionInterruption.select().where(PrescriptionInterruption.claim == claim).count() == 0


def test_a_demand_whose_receipt_is_unknown_says_so_and_counts_once_received(desk):
    QueueLimit.delete().execute()
    lawyer = desk.users[Role.LAWYER]
    claim = entrusted(desk, "10/06/2025")
    claim = engine.apply("interrupt_prescription", claim, lawyer, sent_on="01/06/2026", means="raccomandata")
    prescription = term(claim, deadlines.PRESCRIPTION)
    assert prescription.due == day("10/06/2027") and "in attesa di ricevuta" in prescription.basis
    assert engine.can("receive_demand", claim, lawyer)
    demand = PrescriptionInterruption.get(PrescriptionInterruption.claim == claim)
    claim = engine.apply("receive_demand", claim, lawyer, demand=str(demand.id), received_on="04/06/2026")
    # 04/06/2028 is a Sunday -> 05/06/2028
    assert claim.next_due_on == day("05/06/2028") and not engine.can("receive_demand", claim, lawyer)


def test_a_longer_prescription_for_a_crime_is_chosen_with_its_reason(desk):
    QueueLimit.delete().execute()
    lawyer = desk.users[Role.LAWYER]
    claim = entrusted(desk, "10/06/2023")
    with pytest.raises(InvalidData) as error:
        engine.apply("longer_prescription", claim, lawyer, years="6")
    assert {name for name, _ in error.value.errors} == {"reason"}
    claim = engine.apply("longer_prescription", claim, lawyer, years="6",
                         reason="lesioni personali colpose (art. 590 c.p.)")
    # 10/06/2029 is a Sunday -> 11/06/2029
    assert claim.next_due_on == day("11/06/2029")
    assert "art. 2947 c.3 c.c." in term(claim, deadlines.PRESCRIPTION).basis


def test_the_offer_term_runs_from_the_day_the_integration_reached_the_insurer(desk):
    lawyer = desk.users[Role.LAWYER]
    claim = filed(desk, "20/02/2026", "03/03/2026", procedure="ordinary")
    claim = engine.apply("request_missing", claim, lawyer, requested_on="12/03/2026", items="preventivo")
    claim = engine.apply("send_missing", claim, lawyer, sent_on="20/03/2026", received_on="27/03/2026")
    # 60 days from the receipt, 27/03: + 4 = 31/03, + 30 = 30/04, + 26 = 26/05/2026 (a Tuesday);
    # from the sending (20/03) it would have been 19/05
    assert (claim.next_due_kind, claim.next_due_on) == ("offer", day("26/05/2026"))


def test_a_request_made_on_the_monday_after_a_sunday_30th_day_is_in_time(desk):
    lawyer = desk.users[Role.LAWYER]
    # received 02/01/2026: day 30 is Sunday 01/02, the window ends on Monday 02/02
    claim = filed(desk, "20/12/2025", "02/01/2026", procedure="ordinary")
    claim = engine.apply("request_missing", claim, lawyer, requested_on="02/02/2026", items="foto")
    assert "oltre i 30 giorni" not in last_note(claim)
    assert claim.next_due_kind != "offer"  # suspended until the items arrive: no date, not the old one
    assert term(claim, deadlines.OFFER).due is None


def test_the_suit_date_follows_the_restarted_offer_term_and_is_never_overdue(desk):
    lawyer = desk.users[Role.LAWYER]
    claim = filed(desk, "20/02/2026", "02/03/2026", procedure="ordinary")
    claim = engine.apply("request_missing", claim, lawyer, requested_on="20/03/2026", items="perizia")
    claim = engine.apply("send_missing", claim, lawyer, sent_on="08/04/2026", received_on="10/04/2026")
    assert term(claim, deadlines.OFFER).due == day("09/06/2026")
    suit = [d for d in next_due.all_deadlines(Claim.get_by_id(claim.id), None) if d.kind == deadlines.SUIT][0]
    assert suit.due == day("10/06/2026")  # not 03/05/2026
    assert suit.level(day("01/12/2026")) is None  # a day from which the claimant may act, never "scaduta"


def test_a_motivated_refusal_meets_the_offer_term(desk):
    lawyer = desk.users[Role.LAWYER]
    claim = filed(desk, "20/02/2026", "03/03/2026")
    assert claim.next_due_kind == "offer" and engine.can("refuse_offer", claim, lawyer)
    with pytest.raises(InvalidData):
        engine.apply("record_offer", claim, lawyer, amount="0", on_date="20/03/2026")  # an offer of 0 is no offer
    claim = engine.apply("refuse_offer", claim, lawyer, refused_on="20/03/2026", reason="responsabilità contestata")
    assert term(claim, deadlines.OFFER) is None and claim.next_due_kind == "prescription"
    assert (claim.offer_refused_on, claim.refusal_reason) == (day("20/03/2026"), "responsabilità contestata")
    assert "art. 148 c.1 CdA" in last_note(claim)
    assert not engine.can("refuse_offer", claim, lawyer)


def test_a_payment_with_no_offer_before_it_ends_the_offer_term(desk):
    lawyer = desk.users[Role.LAWYER]
    claim = filed(desk, "20/02/2026", "03/03/2026")
    claim = engine.apply("record_payment", claim, lawyer, amount="300,00", on_date="15/03/2026")
    assert claim.status == ClaimStatus.PARTIALLY_REIMBURSED and claim.first_paid_on == day("15/03/2026")
    assert term(claim, deadlines.OFFER) is None and claim.next_due_kind == "prescription"


def test_the_payment_term_runs_from_the_answers_receipt(desk):
    lawyer = desk.users[Role.LAWYER]
    claim = filed(desk, "20/02/2026", "03/03/2026")
    claim = engine.apply("record_offer", claim, lawyer, amount="900", on_date="20/03/2026")
    claim = engine.apply("answer_offer", claim, lawyer, answer="accepted", answered_on="25/03/2026")
    assert term(claim, deadlines.PAYMENT).due is None  # sent, the receipt unknown
    claim = engine.apply("receive_answer", claim, lawyer, received_on="30/03/2026")
    # 30/03 + 15 = 14/04/2026 (a Tuesday), not 09/04 from the sending
    assert (claim.next_due_kind, claim.next_due_on) == ("payment", day("14/04/2026"))


def test_the_claimants_refusal_of_the_inspection_suspends_the_offer_term_until_it_ends(desk):
    lawyer = desk.users[Role.LAWYER]
    claim = filed(desk, "20/02/2026", "02/03/2026")
    claim = engine.apply("suspend_offer_term", claim, lawyer, kind="inspection", start_on="10/03/2026")
    assert term(claim, deadlines.OFFER).due is None and engine.can("end_suspension", claim, lawyer)
    claim = engine.apply("end_suspension", claim, lawyer, end_on="20/03/2026")
    # 60 days from 02/03 + 10 suspended: 11/05/2026
    assert (claim.next_due_kind, claim.next_due_on) == ("offer", day("11/05/2026"))
    assert "art. 148 c.3 CdA" in term(claim, deadlines.OFFER).basis


def test_a_bulk_action_reads_each_claims_demands(desk):
    from workflows.bulk import apply_many
    QueueLimit.delete().execute()
    claim = claim_in(desk, ClaimStatus.RECEIVED)
    Claim.update(accident_date=day("10/06/2023")).where(Claim.id == claim.id).execute()
    PrescriptionInterruption.create(claim=claim, on_date=day("04/11/2024"), received_on=day("05/11/2024"),
                                    means="pec")
    apply_many("validate", [claim.id], desk.users[Role.ADMIN])
    saved = Claim.get_by_id(claim.id)
    assert saved.status == ClaimStatus.VALIDATED
    assert (saved.next_due_kind, saved.next_due_on) == ("prescription", day("05/11/2026"))
