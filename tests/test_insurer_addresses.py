"""The claims-office addresses the call centre approves for an insurer: the only ones, with the
registry's own, a claim may be sent to (workflows/insurer_addresses.py, its grid in Anagrafiche)."""
from __future__ import annotations

import pytest

from models import ClaimsOfficeSending, InsurerAddress, OutboundEmail, Role
from workflows import claims_office, insurer_addresses
from workflows.errors import NotAllowed

from .conftest import csrf_token, login
from .test_claims_office import documents, entrusted, queued, send  # noqa: F401 - fixtures
from .test_workflows import desk  # noqa: F401 - fixtures

APPROVED = "sinistri.lazio@pec.compagnia-esempio.it"
GRID = "/admin/insurer-address/"


def approve_by_form(client, insurer, address=APPROVED, kind="pec"):
    return client.post(f"{GRID}new/", data={"csrf_token": csrf_token(client, f"{GRID}new/"), "insurer": insurer.id,
                                            "address": address, "kind": kind, "note": "Sede di Roma"})


def test_the_call_centre_approves_an_address_and_then_a_claim_may_be_sent_there(client, desk, entrusted):
    lawyer = desk.users[Role.LAWYER]
    login(client, lawyer)
    send(client, entrusted, to=APPROVED, attachments=[str(documents(entrusted, "denuncia")[0].id)])
    assert queued(entrusted) == []  # not yet approved

    admin = desk.users[Role.ADMIN]
    login(client, admin)
    assert approve_by_form(client, desk.insurer, address=APPROVED.upper()).status_code == 302
    row = InsurerAddress.get(InsurerAddress.insurer == desk.insurer)
    assert (row.address, row.kind, row.approved_by_id) == (APPROVED, "pec", admin.id) and row.approved_at is not None
    assert APPROVED in client.get(GRID).get_data(as_text=True)

    login(client, lawyer)
    shown = client.get(f"/admin/claim/details/?id={entrusted.id}").get_data(as_text=True)
    assert f'<option value="{APPROVED}">{APPROVED} (PEC approvata dal call center)</option>' in shown
    send(client, entrusted, to=APPROVED, attachments=[str(documents(entrusted, "denuncia")[0].id)])
    [row] = queued(entrusted)
    assert row.recipients == APPROVED and ClaimsOfficeSending.get(ClaimsOfficeSending.claim == entrusted).kind == "pec"


def test_an_address_approved_for_another_insurer_is_refused(desk, entrusted):
    other = desk.f.insurer()
    insurer_addresses.approve(desk.users[Role.ADMIN], other, APPROVED, "pec")
    with pytest.raises(claims_office.InvalidData):
        claims_office.send(entrusted, desk.users[Role.LAWYER], to=APPROVED,
                           attachment_ids=[documents(entrusted, "denuncia")[0].id], message="Testo", limit=10**8,
                           sender="noreply@gessin.local")
    assert OutboundEmail.select().where(OutboundEmail.recipients == APPROVED).count() == 0


def test_the_same_address_is_approved_once_per_insurer(client, desk):
    admin = desk.users[Role.ADMIN]
    insurer_addresses.approve(admin, desk.insurer, APPROVED, "pec")
    login(client, admin)
    refused = approve_by_form(client, desk.insurer, address=APPROVED.title())
    assert refused.status_code == 200 and "già approvato per la compagnia" in refused.get_data(as_text=True)
    assert InsurerAddress.select().count() == 1


@pytest.mark.parametrize("role", (Role.ASP_MANAGER, Role.LAWYER, Role.REPAIRER))
def test_no_one_but_the_call_centre_sees_or_approves_an_address(client, desk, role):
    row = insurer_addresses.approve(desk.users[Role.ADMIN], desk.insurer, APPROVED, "pec")
    user = desk.users[role]
    with pytest.raises(NotAllowed):
        insurer_addresses.approve(user, desk.insurer, "altro@pec.compagnia-esempio.it", "pec")
    login(client, user)
    token = csrf_token(client, "/admin/")
    for method, url, data in (
            ("GET", GRID, None), ("GET", f"{GRID}new/", None), ("GET", f"{GRID}details/?id={row.id}", None),
            ("GET", f"{GRID}export/csv/", None),
            ("POST", f"{GRID}new/", {"insurer": desk.insurer.id, "address": "altro@pec.compagnia-esempio.it",
                                     "kind": "pec"}),
            ("POST", f"{GRID}delete/", {"id": row.id}),
            ("POST", f"{GRID}action/", {"action": "delete", "rowid": row.id})):
        response = client.get(url) if method == "GET" else client.post(url, data={**data, "csrf_token": token})
        assert response.status_code == 403, (method, url)
        assert APPROVED not in response.get_data(as_text=True)
    assert [(r.id, r.address) for r in InsurerAddress.select()] == [(row.id, APPROVED)]
