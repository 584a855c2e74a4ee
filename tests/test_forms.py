"""Forms that keep what was typed: a refused action comes back open, with every value and every error."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from models import ClaimStatus, Payment, Role
from workflows import engine
from workflows.errors import InvalidData

from .conftest import csrf_token, login
from .test_workflows import TODAY, claim_in, desk  # noqa: F401 - fixtures and builders


def _form(page: str, event: str) -> str:
    """The HTML of one action's form on the claim page."""
    match = re.search(rf'<form[^>]*id="act-{event}"[^>]*>.*?</form>', page, re.S)
    assert match, f"no form for {event}"
    return match.group(0)


def _input(form: str, name: str) -> str:
    match = re.search(rf'<(?:input|select|textarea)[^>]*name="{name}"[^>]*>', form)
    assert match, f"no input {name}"
    return match.group(0)


# ---- the engine tells every wrong field at once ------------------------------------

def test_an_offer_with_three_wrong_fields_gives_three_errors_at_once(desk):
    claim = claim_in(desk, ClaimStatus.FILED)
    with pytest.raises(InvalidData) as caught:
        engine.apply("record_offer", claim, desk.users[Role.LAWYER], amount="abc",
                     on_date=TODAY + dt.timedelta(days=3), payer="999999")
    fields = [name for name, _message in caught.value.errors]
    assert fields == ["amount", "on_date", "payer"]
    assert caught.value.field == "amount" and str(caught.value.message) == str(caught.value.errors[0][1])
    assert Payment.select().count() == 0


def test_a_transfer_without_reason_to_an_unknown_repairer_gives_both_errors(desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    with pytest.raises(InvalidData) as caught:
        engine.apply("transfer", claim, desk.users[Role.ADMIN], repairer="999999", note="  ")
    assert [name for name, _message in caught.value.errors] == ["note", "repairer"]


def test_closing_for_an_unknown_reason_without_note_says_the_reason(desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    with pytest.raises(InvalidData) as caught:
        engine.apply("close", claim, desk.users[Role.ADMIN], reason="nonsense")
    assert [name for name, _message in caught.value.errors] == ["reason"]


# ---- the claim page gives the form back ----------------------------------------------

def test_a_refused_offer_comes_back_open_with_what_was_typed_and_each_error_by_its_field(client, desk):
    claim = claim_in(desk, ClaimStatus.FILED)
    login(client, desk.users[Role.LAWYER])
    future = (TODAY + dt.timedelta(days=3)).isoformat()
    response = client.post(f"/admin/claim/act/{claim.id}/record_offer", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version, "amount": "abc",
        "on_date": future, "payer": str(desk.insurer.id), "note": "Telefonata con il perito"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    form = _form(page, "record_offer")
    assert 'class="collapse show' in form
    assert 'value="abc"' in _input(form, "amount") and "is-invalid" in _input(form, "amount")
    assert f'value="{future}"' in _input(form, "on_date") and "is-invalid" in _input(form, "on_date")
    assert "Telefonata con il perito</textarea>" in form
    assert re.search(rf'<option value="{desk.insurer.id}" selected', form)
    feedback = re.findall(r'<div class="invalid-feedback d-block">(.*?)</div>', form)
    assert feedback == ["«abc» non è un importo: scrivi le cifre, con il punto per le migliaia e la virgola per i "
                        "decimali (per esempio 1.500,00).", "Data: la data non può essere nel futuro."]
    other = _form(page, "record_payment")  # the other actions' forms stay closed and empty
    assert 'collapse show' not in other and "is-invalid" not in other and "Telefonata" not in other
    assert Payment.select().count() == 0


def test_a_close_for_another_reason_without_note_keeps_the_reason_chosen(client, desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.post(f"/admin/claim/act/{claim.id}/close", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version, "reason": "other"})
    form = _form(response.get_data(as_text=True), "close")
    assert '<option value="other" selected' in form
    assert "is-invalid" in _input(form, "note") and "Con il motivo «Altro» scrivi una nota." in form


def test_a_checklist_keeps_the_items_ticked(client, desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.post(f"/admin/claim/act/{claim.id}/mark_incomplete", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version,
        "missing": ["doc:mandato", "doc:inventato"], "note": "firma"})
    assert response.status_code == 422
    form = _form(response.get_data(as_text=True), "mark_incomplete")
    assert re.search(r'value="doc:mandato"[^>]*checked', form)
    assert not re.search(r'value="doc:denuncia"[^>]*checked', form)
    assert "Elemento mancante sconosciuto: doc:inventato" in form and ">firma</textarea>" in form


def test_a_refused_filing_keeps_its_checkboxes(client, desk):
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    login(client, desk.users[Role.LAWYER])
    response = client.post(f"/admin/claim/act/{claim.id}/file_claim", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version,
        "filed_on": "", "personal_injury": "y"})
    form = _form(response.get_data(as_text=True), "file_claim")
    assert "checked" in _input(form, "personal_injury") and "checked" not in _input(form, "signed_by_both")
    assert "is-invalid" in _input(form, "filed_on")


def test_a_conflict_keeps_the_values_with_the_message_on_top(client, desk):
    claim = claim_in(desk, ClaimStatus.FILED)
    login(client, desk.users[Role.LAWYER])
    token = csrf_token(client, "/admin/claim/")
    engine.apply("record_offer", claim, desk.users[Role.ADMIN], amount="100", on_date=TODAY)  # someone else, meanwhile
    response = client.post(f"/admin/claim/act/{claim.id}/record_offer", data={
        "csrf_token": token, "version": claim.version, "amount": "750,00", "on_date": TODAY.isoformat(),
        "note": "seconda offerta"})
    assert response.status_code == 409
    form = _form(response.get_data(as_text=True), "record_offer")
    assert 'collapse show' in form and 'value="750,00"' in form and "seconda offerta</textarea>" in form
    assert re.search(r'alert-danger[^>]*>[^<]*modificata da un altro utente', form)
    assert f'name="version" value="{claim.version + 1}"' in form  # confirming again acts on what is shown
    assert Payment.select().count() == 1


def test_a_refused_action_of_another_centres_claim_is_still_404(client, desk):
    other = desk.f.centre(name="Centro Beta")
    foreign = desk.f.claim(desk.f.repairer(), other)
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.post(f"/admin/claim/act/{foreign.id}/close", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": foreign.version, "reason": "other"})
    assert response.status_code == 404
