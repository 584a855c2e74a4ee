"""The file sent to the insurer's claims office from the claim page, through the outbox and
Flask-Mail, to a real SMTP server; only to the insurer's registered or approved addresses.
(When the claim is filed: tests/test_claims_office_delivery.py.)"""
from __future__ import annotations

import hashlib

import pytest

from models import (Attachment, Claim, ClaimsOfficeSending, ClaimStatus, OutboundEmail, OutboundMessage,
                    PrescriptionInterruption, Role, StatusChange)
from tasks import mail
from workflows import claims_office
from workflows.errors import InvalidData

from .conftest import csrf_token, login
from .test_mail import queue, worker_app  # noqa: F401 - fixtures
from .test_mail_attachments import server  # noqa: F401 - fixture
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures

PEC = "sinistri@pec.compagnia-esempio.it"


@pytest.fixture
def entrusted(desk):
    desk.insurer.claims_pec, desk.insurer.claims_email = PEC, "sinistri@compagnia-esempio.it"
    desk.insurer.save()
    claim = claim_in(desk, ClaimStatus.ASSIGNED, vehicle_b_insurer=desk.insurer, direct_compensation=False)
    return claim


def documents(claim, *kinds):
    return [a for a in Attachment.select().where(Attachment.claim == claim).order_by(Attachment.id)
            if a.kind in kinds]


def send(client, claim, **form):
    data = {"csrf_token": csrf_token(client, "/admin/"), "message": "In allegato la documentazione.", **form}
    return client.post(f"/admin/claim/claims-office/{claim.id}/send", data=data)


def queued(claim):
    return list(OutboundEmail.with_message().where(OutboundEmail.claim == claim, OutboundMessage.subject.startswith(
        "Richiesta di risarcimento")).order_by(OutboundEmail.id))


def test_the_form_offers_the_insurers_registered_pec_and_email_and_the_documents_to_bind(client, desk, entrusted):
    login(client, desk.users[Role.LAWYER])
    page = client.get(f"/admin/claim/details/?id={entrusted.id}").get_data(as_text=True)
    assert f'<option value="{PEC}">{PEC} (PEC ufficio sinistri)</option>' in page
    email = "sinistri@compagnia-esempio.it"
    assert f'<option value="{email}">{email} (E-mail ufficio sinistri)</option>' in page
    assert 'type="email"' not in page.split('id="claims-office-form"')[1].split("</form>")[0]  # nothing to type
    for doc in documents(entrusted, "denuncia", "mandato"):
        assert f'id="office-doc-{doc.id}"' in page
    assert "Richiesta danni" in page and "art. 148 D.Lgs. 209/2005" in page


def test_sent_by_pec_the_chosen_files_arrive_byte_for_byte_and_nothing_is_filed_on_the_servers_acceptance(
        client, desk, entrusted, server, queue, worker_app):
    chosen = documents(entrusted, "denuncia", "mandato")
    login(client, desk.users[Role.LAWYER])
    response = send(client, entrusted, to=PEC, attachments=[str(d.id) for d in chosen])
    assert response.status_code == 302
    [row] = queued(entrusted)
    mail.deliver.call_local(row.id)
    assert OutboundEmail.get_by_id(row.id).status == "sent"
    [(_, message)] = [(s, m) for s, m in server.received if m["X-Gessin-Outbox-Id"] == str(row.id)]
    assert message["To"] == PEC
    got = [(p.get_filename(), hashlib.sha256(p.get_content()).hexdigest()) for p in message.iter_attachments()]
    assert got == [(d.original_name, d.sha256) for d in chosen]
    saved = Claim.get_by_id(entrusted.id)
    # A PEC is delivered when its receipt says so; and its receipt interrupts prescription through
    # claim_filed_on (the claim letter is a written demand), never as a second entry.
    assert (saved.status, saved.claim_filed_on) == (ClaimStatus.ASSIGNED, None)
    assert PrescriptionInterruption.select().where(PrescriptionInterruption.claim == entrusted).count() == 0
    sent = StatusChange.get(StatusChange.claim == entrusted, StatusChange.event == "claims_office")
    assert PEC in sent.note and "(PEC)" in sent.note and message["Message-ID"] in sent.note
    assert ClaimsOfficeSending.get(ClaimsOfficeSending.claim == entrusted).kind == "pec"


def test_sent_by_plain_email_the_click_files_nothing_and_interrupts_nothing(client, desk, entrusted):
    login(client, desk.users[Role.LAWYER])
    send(client, entrusted, to="sinistri@compagnia-esempio.it",
         attachments=[str(d.id) for d in documents(entrusted, "denuncia")])
    saved = Claim.get_by_id(entrusted.id)
    assert (saved.status, saved.claim_filed_on) == (ClaimStatus.ASSIGNED, None)
    [row] = queued(entrusted)
    assert row.status == "pending" and row.claims_office_sending.kind == "email"
    shown = client.get(f"/admin/claim/details/?id={entrusted.id}").get_data(as_text=True)
    assert "In uscita verso l" in shown and "La richiesta risulta inviata quando è consegnata" in shown
    assert PrescriptionInterruption.select().where(PrescriptionInterruption.claim == entrusted).count() == 0


# ---- only to the insurer's addresses ---------------------------------------------------

def test_an_address_typed_in_the_form_is_refused_and_the_message_says_where_to_add_it(client, desk, entrusted):
    login(client, desk.users[Role.LAWYER])
    send(client, entrusted, to="qualcuno@altrove.it", attachments=[str(documents(entrusted, "denuncia")[0].id)])
    assert queued(entrusted) == [] and ClaimsOfficeSending.select().count() == 0
    page = client.get(f"/admin/claim/details/?id={entrusted.id}").get_data(as_text=True)
    assert "«qualcuno@altrove.it» non è un indirizzo dell&#39;ufficio sinistri di" in page
    assert "Anagrafiche &gt; Indirizzi uffici sinistri" in page


def test_the_workflow_refuses_an_address_not_registered_for_the_addressee_insurer(desk, entrusted):
    other = desk.f.insurer()
    other.claims_pec = "sinistri@pec.altra-compagnia.it"
    other.save()
    lawyer = desk.users[Role.LAWYER]
    doc = documents(entrusted, "denuncia")[0]
    for address in ("qualcuno@altrove.it", other.claims_pec, "", "non-un-indirizzo"):
        with pytest.raises(InvalidData) as refused:
            claims_office.send(entrusted, lawyer, to=address, attachment_ids=[doc.id], message="Testo",
                               limit=10**8, sender="noreply@gessin.local")
        assert refused.value.field == "to", address
    assert OutboundEmail.select().where(OutboundEmail.claims_office_sending.is_null(False)).count() == 0


def test_the_registrys_address_is_accepted_whatever_its_case(desk, entrusted):
    [email_id] = claims_office.send(entrusted, desk.users[Role.LAWYER], to=" Sinistri@PEC.Compagnia-Esempio.it ",
                                    attachment_ids=[documents(entrusted, "denuncia")[0].id], message="Testo",
                                    limit=10**8, sender="noreply@gessin.local")
    assert OutboundEmail.get_by_id(email_id).recipients == PEC


def test_an_insurer_with_no_claims_office_address_gets_no_form_to_type_one_in(client, desk, entrusted):
    desk.insurer.claims_pec = desk.insurer.claims_email = None
    desk.insurer.save()
    login(client, desk.users[Role.LAWYER])
    page = client.get(f"/admin/claim/details/?id={entrusted.id}").get_data(as_text=True)
    assert 'id="office-no-address"' in page and "ufficio sinistri nel registro: il call center lo aggiunge" in page
    assert 'name="to"' not in page
    send(client, entrusted, to=PEC, attachments=[str(documents(entrusted, "denuncia")[0].id)])
    assert queued(entrusted) == []


def test_over_the_limit_it_asks_first_then_sends_numbered_messages_within_it(client, desk, entrusted, app, monkeypatch):
    chosen = documents(entrusted, "denuncia", "mandato", "cessione_credito")
    limit = max(d.size for d in chosen) + 1  # one file per message
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTACHMENT_BYTES", limit)
    login(client, desk.users[Role.LAWYER])
    send(client, entrusted, to=PEC, attachments=[str(d.id) for d in chosen])
    assert queued(entrusted) == [] and Claim.get_by_id(entrusted.id).status == ClaimStatus.ASSIGNED
    page = client.get(f"/admin/claim/details/?id={entrusted.id}").get_data(as_text=True)
    assert "superano il limite" in page and "conferma l&#39;invio in 3 messaggi numerati" in page
    send(client, entrusted, to=PEC, attachments=[str(d.id) for d in chosen], split="1")
    rows = queued(entrusted)
    assert [r.subject[-8:] for r in rows] == ["(1 di 3)", "(2 di 3)", "(3 di 3)"]
    assert all(sum(a.size for a in r.attachments) <= limit for r in rows)
    assert sorted(a.sha256 for r in rows for a in r.attachments) == sorted(d.sha256 for d in chosen)


def test_a_file_larger_than_the_limit_alone_is_refused_by_name(client, desk, entrusted, app, monkeypatch):
    [doc] = documents(entrusted, "denuncia")
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTACHMENT_BYTES", doc.size - 1)
    login(client, desk.users[Role.LAWYER])
    send(client, entrusted, to=PEC, attachments=[str(doc.id)], split="1")
    page = client.get(f"/admin/claim/details/?id={entrusted.id}").get_data(as_text=True)
    assert f"«{doc.original_name}»" in page and "supera da solo il limite" in page
    assert queued(entrusted) == []


def test_a_document_of_another_claim_cannot_be_slipped_in(client, desk, entrusted):
    other = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.LAWYER])
    send(client, entrusted, to=PEC, attachments=[str(documents(other, "denuncia")[0].id)])
    assert queued(entrusted) == [] and Claim.get_by_id(entrusted.id).status == ClaimStatus.ASSIGNED


def test_only_those_who_prepare_the_file_may_send_it(client, desk, entrusted):
    login(client, desk.users[Role.REPAIRER])
    assert send(client, entrusted, to=PEC).status_code == 403
    stranger = desk.f.user(Role.ASP_MANAGER, asp_centre=desk.f.centre())
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    login(client, stranger)
    assert send(client, entrusted, to=PEC).status_code == 404
    assert queued(entrusted) == []
