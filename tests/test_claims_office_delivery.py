"""A claim sent to its claims office is filed when the message is delivered, not when the
button is pressed: an e-mail when the SMTP server accepted it (in the worker, through the
real outbox sender and a real SMTP server), a PEC when its delivery receipt is recorded."""
from __future__ import annotations

import datetime as dt

import pytest
from aiosmtpd.controller import Controller

from models import Claim, ClaimsOfficeSending, ClaimStatus, OutboundEmail, PrescriptionInterruption, Role, StatusChange
from tasks import claims_office as claims_office_tasks
from tasks import mail
from workflows import claims_office, claims_office_delivery, clock, dates, engine

from .conftest import csrf_token, login
from .test_claims_office import PEC, documents, entrusted, queued, send  # noqa: F401 - fixtures
from .test_mail import free_port, queue, run_queued, worker_app  # noqa: F401 - fixtures
from .test_mail_attachments import Sessions, server  # noqa: F401 - fixture
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures

EMAIL = "sinistri@compagnia-esempio.it"


def page(client, claim) -> str:
    return client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)


def queue_to(claim, user, to, limit=10**8, split_ok=False) -> list[int]:
    chosen = [d.id for d in documents(claim, "denuncia", "mandato")]
    return claims_office.send(claim, user, to=to, attachment_ids=chosen, message="In allegato la richiesta.",
                              limit=limit, split_ok=split_ok, sender="noreply@gessin.local")


def filings(claim) -> list[StatusChange]:
    return list(StatusChange.select().where(StatusChange.claim == claim, StatusChange.event == "file_claim"))


def accepted(email_id: int, at: dt.datetime) -> None:
    """The outbox row as the sender leaves it once the server accepted it (a worker that then stopped)."""
    OutboundEmail.update(status="sent", sent_at=at, attempts=1).where(OutboundEmail.id == email_id).execute()


# ---- the workflow ---------------------------------------------------------------------------

def test_sending_queues_the_message_and_records_it_but_leaves_the_claim_affidata(desk, entrusted):
    [email_id] = queue_to(entrusted, desk.users[Role.LAWYER], EMAIL)
    saved = Claim.get_by_id(entrusted.id)
    assert (saved.status, saved.claim_filed_on) == (ClaimStatus.ASSIGNED, None)
    assert filings(entrusted) == []
    sending = ClaimsOfficeSending.get(ClaimsOfficeSending.claim == entrusted)
    assert (sending.kind, sending.address, sending.files_claim, sending.settled_at) == ("email", EMAIL, True, None)
    assert OutboundEmail.get_by_id(email_id).claims_office_sending_id == sending.id
    history = StatusChange.get(StatusChange.claim == entrusted, StatusChange.event == "claims_office")
    assert history.note.startswith(f"Inviata all'ufficio sinistri (e-mail) {EMAIL}: ")


def test_an_email_accepted_just_after_midnight_in_rome_is_filed_on_the_roman_day(desk):
    claim = claim_in(desk, ClaimStatus.ASSIGNED, vehicle_b_insurer=desk.insurer, direct_compensation=False,
                     accident_date=dt.date(2026, 1, 10))
    desk.insurer.claims_email = EMAIL
    desk.insurer.save()
    [email_id] = queue_to(claim, desk.users[Role.LAWYER], EMAIL)
    accepted(email_id, dt.datetime(2026, 3, 28, 23, 30))  # UTC; 00:30 of 29/03 in Rome (CET, +1)
    sending = claims_office_delivery.sending_of(email_id)
    assert claims_office_delivery.settle(sending) == "filed"
    saved = Claim.get_by_id(claim.id)
    assert (saved.status, saved.claim_filed_on) == (ClaimStatus.FILED, dt.date(2026, 3, 29))
    [filed] = filings(claim)
    assert filed.actor_id == desk.users[Role.LAWYER].id and "accettata dal server di posta il 29/03/2026" in filed.note


def test_settling_twice_files_the_claim_once(desk, entrusted):
    [email_id] = queue_to(entrusted, desk.users[Role.LAWYER], EMAIL)
    sending = claims_office_delivery.sending_of(email_id)
    assert claims_office_delivery.settle(sending) == "waiting"  # still in the outbox: nothing
    accepted(email_id, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    assert [claims_office_delivery.settle(sending) for _ in range(2)] == ["filed", "done"]
    assert len(filings(entrusted)) == 1


def test_a_claim_filed_by_hand_meanwhile_keeps_its_date_and_the_delivery_is_only_noted(desk, entrusted):
    [email_id] = queue_to(entrusted, desk.users[Role.LAWYER], EMAIL)
    by_hand = clock.today() - dt.timedelta(days=2)
    engine.apply("file_claim", Claim.get_by_id(entrusted.id), desk.users[Role.ADMIN], filed_on=by_hand,
                 procedure="ordinary", signed_by_both=False, personal_injury=False, note="Raccomandata A/R")
    accepted(email_id, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    assert claims_office_delivery.settle(claims_office_delivery.sending_of(email_id)) == "noted"
    saved = Claim.get_by_id(entrusted.id)
    assert (saved.status, saved.claim_filed_on) == (ClaimStatus.FILED, by_hand)
    assert len(filings(entrusted)) == 1
    note = StatusChange.get(StatusChange.claim == entrusted, StatusChange.event == "claims_office_delivered")
    assert "non era più «Affidata» (ora «Richiesta inviata»)" in note.note


def test_the_sweep_files_a_claim_whose_worker_stopped_right_after_the_message_was_accepted(desk, entrusted, worker_app):
    [email_id] = queue_to(entrusted, desk.users[Role.LAWYER], EMAIL)
    accepted(email_id, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    claims_office_tasks.settle_claims_office.call_local()
    assert Claim.get_by_id(entrusted.id).status == ClaimStatus.FILED
    assert claims_office_delivery.unsettled_ids() == []
    claims_office_tasks.settle_claims_office.call_local()
    assert len(filings(entrusted)) == 1


# ---- through the real worker and SMTP server -------------------------------------------------

def test_the_workers_successful_send_files_the_claim_with_the_day_the_server_accepted_it(
        client, desk, entrusted, server, queue, worker_app):
    login(client, desk.users[Role.LAWYER])
    send(client, entrusted, to=EMAIL, attachments=[str(d.id) for d in documents(entrusted, "denuncia")])
    [row] = queued(entrusted)
    assert Claim.get_by_id(entrusted.id).status == ClaimStatus.ASSIGNED  # queued, not delivered
    assert "Il messaggio non è ancora partito" in page(client, entrusted)
    mail.deliver.call_local(row.id)
    row = OutboundEmail.get_by_id(row.id)
    assert row.status == "sent" and [m["To"] for _s, m in server.received] == [EMAIL]
    saved = Claim.get_by_id(entrusted.id)
    assert (saved.status, saved.claim_filed_on) == (ClaimStatus.FILED, dates.to_rome(row.sent_at).date())
    assert PrescriptionInterruption.select().where(PrescriptionInterruption.claim == entrusted).count() == 0
    shown = page(client, entrusted)
    assert f"E-mail accettata dal server di posta il {saved.claim_filed_on:%d/%m/%Y}." in shown
    mail.deliver.call_local(row.id)  # the same task twice
    assert len(filings(entrusted)) == 1


def test_a_message_left_in_the_outbox_without_smtp_leaves_the_claim_affidata_and_the_page_says_so(
        client, desk, entrusted, queue, worker_app):
    assert not worker_app.config.get("MAIL_SERVER")
    login(client, desk.users[Role.LAWYER])
    send(client, entrusted, to=EMAIL, attachments=[str(d.id) for d in documents(entrusted, "denuncia")])
    [row] = queued(entrusted)
    mail.deliver.call_local(row.id)
    assert Claim.get_by_id(entrusted.id).status == ClaimStatus.ASSIGNED and filings(entrusted) == []
    shown = page(client, entrusted)
    assert "Il messaggio non è ancora partito" in shown and "SMTP non configurato" in shown
    assert "la pratica resta «Affidata» finché non è consegnato" in shown


def test_with_smtp_down_the_claim_stays_affidata_and_the_retry_that_succeeds_files_it_once(
        client, desk, entrusted, queue, worker_app):
    port = free_port()  # nothing listens there yet
    worker_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_RETRY_BASE_SECONDS=1)
    login(client, desk.users[Role.LAWYER])
    send(client, entrusted, to=EMAIL, attachments=[str(d.id) for d in documents(entrusted, "denuncia")])
    [row] = queued(entrusted)
    mail.deliver.call_local(row.id)
    assert OutboundEmail.get_by_id(row.id).status == "failed"
    assert Claim.get_by_id(entrusted.id).status == ClaimStatus.ASSIGNED
    assert "Invio non riuscito" in page(client, entrusted)

    recorder = Sessions()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        queue.flush()  # the back-off's scheduled retry is replaced by an immediate one
        assert mail.resend([row.id]) == 1
        run_queued()
        mail.deliver.call_local(row.id)  # a late duplicate of the task
        claims_office_tasks.settle_claims_office.call_local()
    finally:
        controller.stop()
    assert [m["X-Gessin-Outbox-Id"] for _s, m in recorder.received].count(str(row.id)) == 1
    row = OutboundEmail.get_by_id(row.id)
    saved = Claim.get_by_id(entrusted.id)
    assert (saved.status, saved.claim_filed_on) == (ClaimStatus.FILED, dates.to_rome(row.sent_at).date())
    assert len(filings(entrusted)) == 1


def test_numbered_messages_file_the_claim_once_the_last_of_them_is_accepted(desk, entrusted, server, queue,
                                                                            worker_app):
    chosen = documents(entrusted, "denuncia", "mandato")
    ids = queue_to(entrusted, desk.users[Role.LAWYER], EMAIL, limit=max(d.size for d in chosen) + 1, split_ok=True)
    assert len(ids) == 2
    mail.deliver.call_local(ids[0])
    assert Claim.get_by_id(entrusted.id).status == ClaimStatus.ASSIGNED
    mail.deliver.call_local(ids[1])
    assert Claim.get_by_id(entrusted.id).status == ClaimStatus.FILED


# ---- a PEC: filed by its delivery receipt ----------------------------------------------------

def receipt(client, claim, sending, day):
    return client.post(f"/admin/claim/claims-office/{claim.id}/pec-receipt", data={
        "csrf_token": csrf_token(client, "/admin/"), "sending": sending.id, "delivered_on": day})


def test_a_pec_accepted_by_the_server_waits_for_its_delivery_receipt_which_files_the_claim(
        client, desk, entrusted, server, queue, worker_app):
    login(client, desk.users[Role.LAWYER])
    send(client, entrusted, to=PEC, attachments=[str(d.id) for d in documents(entrusted, "denuncia")])
    [row] = queued(entrusted)
    mail.deliver.call_local(row.id)
    claims_office_tasks.settle_claims_office.call_local()
    assert Claim.get_by_id(entrusted.id).status == ClaimStatus.ASSIGNED  # the server's 250 is not delivery
    sent_on = dates.to_rome(OutboundEmail.get_by_id(row.id).sent_at).date()
    shown = page(client, entrusted)
    assert f"PEC inviata il {sent_on:%d/%m/%Y}, in attesa della ricevuta di consegna." in shown
    assert "Registra ricevuta di consegna PEC" in shown
    sending = ClaimsOfficeSending.get(ClaimsOfficeSending.claim == entrusted)

    for wrong, why in ((sent_on - dt.timedelta(days=1), "non può precedere l"),
                       (clock.today() + dt.timedelta(days=1), "la data non può essere nel futuro")):
        receipt(client, entrusted, sending, f"{wrong:%d/%m/%Y}")
        assert Claim.get_by_id(entrusted.id).status == ClaimStatus.ASSIGNED
        assert why in page(client, entrusted)

    assert receipt(client, entrusted, sending, f"{sent_on:%d/%m/%Y}").status_code == 302
    saved = Claim.get_by_id(entrusted.id)
    assert (saved.status, saved.claim_filed_on) == (ClaimStatus.FILED, sent_on)
    [filed] = filings(entrusted)
    assert f"ricevuta di consegna del {sent_on:%d/%m/%Y}" in filed.note
    assert PrescriptionInterruption.select().where(PrescriptionInterruption.claim == entrusted).count() == 0
    sending = ClaimsOfficeSending.get_by_id(sending.id)
    assert (sending.delivered_on, sending.receipt_recorded_by_id) == (sent_on, desk.users[Role.LAWYER].id)
    assert f"PEC consegnata il {sent_on:%d/%m/%Y}" in page(client, entrusted)
    receipt(client, entrusted, sending, f"{sent_on:%d/%m/%Y}")  # recorded twice
    assert len(filings(entrusted)) == 1


def test_a_pec_receipt_is_refused_before_the_pec_has_left_and_for_a_date_before_it(desk, entrusted):
    lawyer = desk.users[Role.LAWYER]
    [email_id] = queue_to(entrusted, lawyer, PEC)
    sending = claims_office_delivery.sending_of(email_id)
    with pytest.raises(claims_office_delivery.InvalidData, match="non è ancora partita"):
        claims_office_delivery.record_pec_receipt(entrusted, lawyer, sending, clock.today())
    accepted(email_id, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    with pytest.raises(claims_office_delivery.InvalidData, match="non può precedere") as refused:
        claims_office_delivery.record_pec_receipt(entrusted, lawyer, sending, clock.today() - dt.timedelta(days=1))
    assert refused.value.field == "delivered_on"
    assert Claim.get_by_id(entrusted.id).status == ClaimStatus.ASSIGNED


def test_the_body_shop_cannot_record_a_pec_receipt(client, desk, entrusted):
    [email_id] = queue_to(entrusted, desk.users[Role.LAWYER], PEC)
    accepted(email_id, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    sending = ClaimsOfficeSending.get_by_id(claims_office_delivery.sending_of(email_id))
    login(client, desk.users[Role.REPAIRER])
    assert receipt(client, entrusted, sending, f"{clock.today():%d/%m/%Y}").status_code == 403
    assert Claim.get_by_id(entrusted.id).status == ClaimStatus.ASSIGNED


def test_a_receipt_names_a_pec_of_the_claim_itself(desk, entrusted):
    lawyer = desk.users[Role.LAWYER]
    other = claim_in(desk, ClaimStatus.ASSIGNED, vehicle_b_insurer=desk.insurer, direct_compensation=False)
    [email_id] = queue_to(other, lawyer, PEC)
    accepted(email_id, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    for sending in (claims_office_delivery.sending_of(email_id), "", "x", 987654):
        with pytest.raises(claims_office_delivery.InvalidData):
            claims_office_delivery.record_pec_receipt(entrusted, lawyer, sending, clock.today())
    assert {c.status for c in Claim.select()} == {ClaimStatus.ASSIGNED}


def test_a_sender_who_lost_the_file_meanwhile_leaves_a_note_saying_what_to_record(desk, entrusted, worker_app):
    [email_id] = queue_to(entrusted, desk.users[Role.LAWYER], EMAIL)
    other = desk.f.lawyer(desk.centre, name="Avv. Bianchi")
    engine.apply("reassign", Claim.get_by_id(entrusted.id), desk.users[Role.ADMIN], lawyer=other.id)
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    accepted(email_id, at)
    claims_office_tasks.after_sent(email_id)  # as the worker calls it, in the worker's app
    assert Claim.get_by_id(entrusted.id).status == ClaimStatus.ASSIGNED and filings(entrusted) == []
    note = StatusChange.get(StatusChange.claim == entrusted, StatusChange.event == "claims_office_delivered")
    day = dates.to_rome(at).date()
    assert "Non registrata in automatico" in note.note and f"data {day:%d/%m/%Y}" in note.note
    assert ClaimsOfficeSending.get(ClaimsOfficeSending.claim == entrusted).delivered_on == day
