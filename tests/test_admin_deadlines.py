"""The claim page's forms for what the terms need, and its "Scadenze" card."""
from __future__ import annotations

import datetime as dt
import re

from models import Claim, ClaimStatus, PrescriptionInterruption, Role
from workflows import engine

from .conftest import csrf_token, login
from .test_next_due import filed, limits
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures and builders


def details(client, claim):
    return client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)


def act(client, claim, event, **data):
    claim = Claim.get_by_id(claim.id)
    return client.post(f"/admin/claim/act/{claim.id}/{event}", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version, **data})


def test_filing_from_the_page_offers_the_procedure_with_the_portals_verdict_chosen(client, desk):
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    Claim.update(direct_compensation=True, accident_date=dt.date(2026, 2, 20)).where(Claim.id == claim.id).execute()
    login(client, desk.users[Role.LAWYER])
    page = details(client, claim)
    assert re.search(r'<option value="direct"\s+selected>', page)
    response = act(client, claim, "file_claim", filed_on="03/03/2026", procedure="ordinary")
    assert response.status_code == 302
    saved = Claim.get_by_id(claim.id)
    assert (saved.procedure, saved.claim_filed_on, saved.next_due_kind) == ("ordinary", dt.date(2026, 3, 3), "offer")


def test_a_refused_request_for_missing_items_keeps_the_values_and_tells_each_field(client, desk):
    claim = filed(desk, "03/03/2026")
    login(client, desk.users[Role.LAWYER])
    response = act(client, claim, "request_missing", requested_on="31/02/2026", items="", note="da sollecitare")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    form = page[page.index('id="act-request_missing"'):]
    form = form[:form.index("</form>")]
    assert 'value="31/02/2026"' in form and "da sollecitare" in form
    assert "non esiste nel calendario" in form and "Indica che cosa chiede la compagnia" in form
    assert Claim.get_by_id(claim.id).missing_requested_on is None


def test_the_deadlines_card_lists_each_term_with_its_basis_and_the_queue_limit(client, desk):
    limits(assigned=(7, 10))
    claim = filed(desk, "03/03/2026", procedure="direct")
    login(client, desk.users[Role.LAWYER])
    assert act(client, claim, "request_missing", requested_on="12/03/2026", items="foto").status_code == 302
    page = details(client, claim)
    card = page[page.index('id="deadlines"'):]
    card = card[:card.index("</section>")]
    assert "nessuna data per ora" in card and "sospeso dal 12/03/2026" in card
    assert act(client, claim, "send_missing", sent_on="19/03/2026", received_on="20/03/2026").status_code == 302
    page = details(client, claim)
    card = page[page.index('id="deadlines"'):]
    card = card[:card.index("</section>")]
    assert "11/05/2026" in card and "scaduta" in card
    assert "sospeso dal 12/03/2026 al 20/03/2026 per integrazione documenti" in card
    assert "Azione in giudizio" in card and "Prescrizione del diritto" in card
    assert "Nessun tempo di permanenza per lo stato «Richiesta inviata»" in card


def test_interruptions_and_the_answer_to_the_offer_are_recorded_from_the_page(client, desk):
    claim = filed(desk, "02/11/2025", accident=dt.date(2025, 10, 1))
    login(client, desk.users[Role.LAWYER])
    assert 'data-event="answer_offer"' not in details(client, claim)
    engine.apply("record_offer", Claim.get_by_id(claim.id), desk.users[Role.LAWYER], amount="900", on_date="20/11/2025")
    assert 'data-event="answer_offer"' in details(client, claim)
    assert act(client, claim, "answer_offer", answer="accepted", answered_on="25/11/2025").status_code == 302
    assert act(client, claim, "interrupt_prescription", sent_on="01/12/2025", received_on="01/12/2025", means="pec",
               note="diffida").status_code == 302
    assert act(client, claim, "interrupt_prescription", sent_on="02/12/2025",
               means="raccomandata").status_code == 302
    saved = Claim.get_by_id(claim.id)
    assert (saved.offer_answer, saved.offer_answered_on) == ("accepted", dt.date(2025, 11, 25))
    assert PrescriptionInterruption.select().where(PrescriptionInterruption.claim == claim).count() == 2
    card = details(client, claim)
    assert "Raccomandata A/R" in card and "diffida" in card and "in attesa di ricevuta" in card
    # a repairer sees the card, not the forms
    login(client, desk.users[Role.REPAIRER])
    page = details(client, claim)
    assert 'id="deadlines"' in page and 'id="actions"' not in page


def test_an_accident_date_corrected_in_the_claim_form_moves_the_next_deadline(client, desk):
    from .test_claim_edits import FORM
    limits()
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    login(client, desk.users[Role.ADMIN])
    form = client.get(f"/admin/claim/edit/?id={claim.id}").get_data(as_text=True)
    for name in ("offer_answered_on", "answer_received_on", "next_due_on", "missing_sent_on", "missing_received_on"):
        assert f'name="{name}"' not in form, name  # recorded by their events, never typed twice
    response = client.post(f"/admin/claim/edit/?id={claim.id}", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), **FORM, "customer_name": "Cliente",
        "accident_date": "25/04/2025"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    saved = Claim.get_by_id(claim.id)
    # 25/04/2027 is a Sunday -> 26/04/2027
    assert (saved.accident_date, saved.next_due_kind, saved.next_due_on) == (
        dt.date(2025, 4, 25), "prescription", dt.date(2027, 4, 26))
