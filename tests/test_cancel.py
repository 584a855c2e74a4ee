"""A file opened by mistake is cancelled, with a reason, before it is entrusted."""
from __future__ import annotations

import pytest

from models import Claim, ClaimStatus, OutboundEmail, Role, StatusChange
from workflows import engine
from workflows.claims import open_claim
from workflows.errors import InvalidData, NotAllowed

from .conftest import csrf_token, login
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures


def entered_by_hand(desk, user):
    return open_claim(Claim(repairer=desk.repairer, asp_centre=desk.centre, customer_name="Mario Rossi",
                            vehicle_a_plate="AB123CD"), user, source="web")


def test_the_centre_that_entered_a_claim_cancels_it_and_everyone_is_told(desk):
    manager = desk.users[Role.ASP_MANAGER]
    claim = entered_by_hand(desk, manager)
    before = OutboundEmail.select().count()
    saved = engine.apply("cancel", claim, manager, note="inserita due volte")
    assert (saved.status, saved.outcome_reason, saved.outcome_note) == (
        ClaimStatus.CANCELLED, "opened_by_mistake", "inserita due volte")
    last = StatusChange.select().where(StatusChange.claim == claim).order_by(StatusChange.id.desc()).get()
    assert (last.event, last.from_status, last.to_status, last.actor_id) == ("cancel", "received", "cancelled", manager.id)
    assert "inserita due volte" in last.note
    emails = list(OutboundEmail.select().order_by(OutboundEmail.id))[before:]
    assert sorted(e.recipients for e in emails) == sorted([desk.repairer.email, desk.centre.email])
    assert all(e.subject == f"Pratica {claim.number}: annullata, era stata aperta per errore"
               and "Nota: Annullata perché aperta per errore: inserita due volte" in e.body for e in emails)
    assert saved.next_due_on is None  # a cancelled file has no deadline


def test_a_file_wincar_sent_is_cancelled_by_the_call_centre_not_by_the_centre(desk):
    claim = desk.f.claim(desk.repairer, desk.centre, source="wincar")
    manager, call_centre = desk.users[Role.ASP_MANAGER], desk.users[Role.ADMIN]
    assert not engine.can("cancel", claim, manager)
    with pytest.raises(NotAllowed, match="spetta al call center o al centro che l'ha inserita"):
        engine.apply("cancel", claim, manager, note="errore")
    assert engine.apply("cancel", claim, call_centre, note="carrozzeria sbagliata").status == ClaimStatus.CANCELLED


def test_another_centres_manager_cannot_cancel(desk):
    claim = entered_by_hand(desk, desk.users[Role.ASP_MANAGER])
    stranger = desk.f.user(Role.ASP_MANAGER, asp_centre=desk.f.centre())
    assert not engine.can("cancel", claim, stranger)
    with pytest.raises(NotAllowed):
        engine.apply("cancel", claim, stranger, note="errore")
    assert Claim.get_by_id(claim.id).status == ClaimStatus.RECEIVED


def test_an_entrusted_file_is_no_longer_cancelled(desk):
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    with pytest.raises(NotAllowed):
        engine.apply("cancel", claim, desk.users[Role.ADMIN], note="errore")


def test_a_cancellation_needs_its_reason(desk):
    claim = entered_by_hand(desk, desk.users[Role.ASP_MANAGER])
    with pytest.raises(InvalidData) as error:
        engine.apply("cancel", claim, desk.users[Role.ASP_MANAGER], note="  ")
    assert error.value.errors[0][0] == "note"
    assert Claim.get_by_id(claim.id).status == ClaimStatus.RECEIVED


def test_the_claim_page_offers_cancel_to_whom_it_may_and_it_works_from_there(client, desk):
    manager = desk.users[Role.ASP_MANAGER]
    mine, sent = entered_by_hand(desk, manager), desk.f.claim(desk.repairer, desk.centre, source="wincar")
    login(client, manager)
    assert "Annulla la pratica" not in client.get(f"/admin/claim/details/?id={sent.id}").get_data(as_text=True)
    page = client.get(f"/admin/claim/details/?id={mine.id}").get_data(as_text=True)
    assert "Annulla la pratica" in page and "Perché va annullata (aperta per errore)" in page
    response = client.post(f"/admin/claim/act/{mine.id}/cancel", data={
        "csrf_token": csrf_token(client, f"/admin/claim/details/?id={mine.id}"), "version": mine.version,
        "note": "inserita due volte"})
    assert response.status_code == 302
    assert Claim.get_by_id(mine.id).status == ClaimStatus.CANCELLED
    page = client.get(f"/admin/claim/details/?id={mine.id}").get_data(as_text=True)
    assert 'status-cancelled">Annullata</span>' in page
