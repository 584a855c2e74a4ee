"""A message to several recipients: its subject and body stored once (`OutboundMessage`),
each recipient's delivery on its own, a secret removed once no recipient still needs it,
and the migration that moved the outbox's existing rows."""
from __future__ import annotations

import pytest

from models import OutboundAttachment, OutboundEmail, OutboundMessage, db, utcnow
from tasks import huey, mail
from workflows import notify

from .test_mail import mail_app, outbox, parties, queue, reload, run_queued, smtp, worker_app  # noqa: F401 - fixtures

ADDRESSES = ["uno@example.it", "due@example.it", "tre@example.it"]


def write(addresses, subject="[Gessin] Tre destinatari", body="Un solo testo per tutti.\n", claim_id=None) -> list[int]:
    with db.atomic():
        ids = notify.write([(claim_id, addresses, subject, body)])
    notify.discard()  # the test runs the deliveries by hand
    return ids


def refuse(smtp, *addresses: str) -> None:
    """The server refuses these recipients at RCPT TO (a mailbox unknown, for now)."""
    async def handle_RCPT(server, session, envelope, address, rcpt_options):
        if address in addresses:
            return "550 5.1.1 Casella sconosciuta"
        envelope.rcpt_tos.append(address)
        return "250 OK"
    smtp.handler.handle_RCPT = handle_RCPT


# ---- stored once ---------------------------------------------------------------------

def test_a_message_to_three_recipients_stores_its_text_once(app, f):
    ids = write(ADDRESSES)
    assert OutboundMessage.select().count() == 1
    rows = list(OutboundEmail.with_message().where(OutboundEmail.id.in_(ids)).order_by(OutboundEmail.id))
    assert [r.recipients for r in rows] == ADDRESSES and len({r.message_id for r in rows}) == 1
    assert all((r.subject, r.body, r.status) == ("[Gessin] Tre destinatari", "Un solo testo per tutti.\n", "pending")
               for r in rows)


def test_a_change_telling_two_messages_writes_two_texts_and_their_recipients_in_one_insert_each(app, f):
    from .conftest import QueryCounter
    claim = f.claim(f.repairer(), f.centre())
    with db.atomic(), QueryCounter() as counter:
        ids = notify.write([(claim.id, ADDRESSES[:2], "Primo", "Testo uno"), (claim.id, ADDRESSES, "Secondo", "Testo due")])
    notify.discard()
    inserts = [s for s in counter.statements if "INSERT INTO" in s]
    assert len(inserts) == 2 and 'INTO "outbound_message"' in inserts[0] and 'INTO "outbound_email"' in inserts[1]
    rows = list(OutboundEmail.with_message().where(OutboundEmail.id.in_(ids)).order_by(OutboundEmail.id))
    assert [(r.recipients, r.subject) for r in rows] == [
        ("uno@example.it", "Primo"), ("due@example.it", "Primo"),
        ("uno@example.it", "Secondo"), ("due@example.it", "Secondo"), ("tre@example.it", "Secondo")]
    assert {r.claim_id for r in rows} == {claim.id}


def test_one_address_given_as_a_string_is_refused_rather_than_spelt_out(app, f):
    with pytest.raises(TypeError):
        notify.write([(None, "uno@example.it", "Oggetto", "Testo")])
    assert OutboundEmail.select().count() == 0


def test_the_outbox_grid_reads_the_texts_in_the_rows_query_and_searches_the_subject(app, f, client):
    from models import Role

    from .conftest import QueryCounter, login
    write(ADDRESSES, subject="[Gessin] Messaggio 0")
    login(client, f.user(Role.ADMIN))
    client.get("/admin/outbox/")
    with QueryCounter() as three:
        client.get("/admin/outbox/")
    for n in range(1, 5):
        write(ADDRESSES, subject=f"[Gessin] Messaggio {n}")
    with QueryCounter() as fifteen:
        page = client.get("/admin/outbox/").get_data(as_text=True)
    assert all(f"[Gessin] Messaggio {n}" in page for n in range(5))
    assert fifteen.count == three.count  # the texts come joined to their rows, never one query per row
    assert not any('FROM "outbound_message"' in s for s in fifteen.statements)
    found = client.get("/admin/outbox/?search=Messaggio+3").get_data(as_text=True)
    assert "[Gessin] Messaggio 3" in found and "[Gessin] Messaggio 2" not in found
    details = client.get(f"/admin/outbox/details/?id={OutboundEmail.select().first().id}").get_data(as_text=True)
    assert "[Gessin] Messaggio" in details and "Un solo testo per tutti." in details


# ---- each recipient on its own ---------------------------------------------------------

def test_each_recipient_of_one_text_is_sent_and_retried_on_its_own(mail_app, smtp, queue, parties):
    refuse(smtp, "due@example.it")
    ids = write(ADDRESSES, subject="[Gessin] Pratica 2027/000001: validata", body="La pratica è stata validata.\n")
    mail.dispatch(ids)
    assert run_queued() == 3
    first, second, third = (reload(OutboundEmail(id=i)) for i in ids)
    assert (first.status, second.status, third.status) == ("sent", "failed", "sent")
    assert second.attempts == 1 and "Casella sconosciuta" in second.last_error and second.next_attempt_at
    assert sorted(m.recipients for m in smtp.messages) == [("tre@example.it",), ("uno@example.it",)]
    assert {(m.subject, m.body.replace("\r\n", "\n")) for m in smtp.messages} == {
        ("[Gessin] Pratica 2027/000001: validata", "La pratica è stata validata.\n")}
    assert {m.outbox_id for m in smtp.messages} == {first.id, third.id}
    assert len({m.message_id for m in smtp.messages}) == 2  # a Message-ID per recipient's row

    refuse(smtp)  # the mailbox exists now
    huey.flush()  # its retry is scheduled a second away: sent again by hand instead
    assert mail.resend(ids) == 1 and run_queued() == 1
    second = reload(second)
    assert (second.status, second.attempts, second.last_error) == ("sent", 2, None)
    [again] = [m for m in smtp.messages if m.recipients == ("due@example.it",)]
    assert (again.subject, again.body.replace("\r\n", "\n"), again.outbox_id) == (
        "[Gessin] Pratica 2027/000001: validata", "La pratica è stata validata.\n", second.id)
    assert len(smtp.messages) == 3 and OutboundMessage.select().count() == 1


# ---- secrets ---------------------------------------------------------------------------

SECRET_BODY = "Utente: carrozzeria.alfa\nPassword: [[segreto]]Segreta-123[[/segreto]]\n"


def test_a_text_carrying_a_secret_is_stored_once_per_recipient_and_each_copy_loses_it_once_sent(
        mail_app, smtp, queue, parties):
    first, second = write(ADDRESSES[:2], subject="Credenziali WinCar", body=SECRET_BODY)
    assert OutboundMessage.select().count() == 2
    mail.deliver.call_local(first)
    [received] = smtp.messages
    assert "Password: Segreta-123" in received.body and "[[segreto]]" not in received.body
    assert "Segreta-123" not in reload(OutboundEmail(id=first)).body
    assert "rimossa dopo l'invio" in reload(OutboundEmail(id=first)).body
    assert "Segreta-123" in reload(OutboundEmail(id=second)).body  # its own copy, still to be sent

    mail.deliver.call_local(second)
    assert "Password: Segreta-123" in smtp.messages[-1].body
    assert not any("Segreta-123" in m.body for m in OutboundMessage.select())


def test_a_shared_text_keeps_its_secret_until_its_last_recipient_is_sent(mail_app, smtp, queue, parties):
    message = OutboundMessage.create(subject="Credenziali WinCar", body=SECRET_BODY)  # as the migration leaves none
    rows = [parties.f.outbox_email(recipients=a, message=message, next_attempt_at=utcnow()) for a in ADDRESSES[:2]]
    refuse(smtp, ADDRESSES[1])
    for row in rows:
        mail.deliver.call_local(row.id)
    assert [reload(r).status for r in rows] == ["sent", "failed"]
    assert "Segreta-123" in OutboundMessage.get_by_id(message.id).body  # the second recipient still needs it

    refuse(smtp)
    huey.flush()
    assert mail.resend([rows[1].id]) == 1 and run_queued() == 1
    assert [m.body.count("Segreta-123") for m in smtp.messages] == [1, 1]
    assert "Segreta-123" not in OutboundMessage.get_by_id(message.id).body
    assert "rimossa dopo l'invio" in OutboundMessage.get_by_id(message.id).body


# ---- the migration -----------------------------------------------------------------------

def test_migration_017_makes_each_existing_row_a_message_and_keeps_its_attachments(f):
    from models.migrate import router
    migrations = router()
    assert "017_outbox_message" in migrations.done
    while "017_outbox_message" in migrations.done:  # the later ones first
        migrations.rollback()
    p, now = db.param, utcnow()
    try:
        assert "outbound_message" not in db.get_tables()
        old = []
        for address, subject in (("uno@example.it", "Vecchio primo"), ("due@example.it", "Vecchio secondo")):
            db.execute_sql('INSERT INTO "outbound_email" ("created_at", "recipients", "subject", "body", "status", '
                           f'"attempts", "possible_duplicate") VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})',
                           [now, address, subject, f"Testo di {subject}", "sent", 1, False])
            old.append(db.execute_sql('SELECT MAX("id") FROM "outbound_email"').fetchone()[0])
        db.execute_sql('INSERT INTO "outbound_attachment" ("created_at", "email_id", "position", "filename", '
                       f'"content_type", "stored_name", "size", "sha256") VALUES ({p}, {p}, 0, {p}, {p}, {p}, 3, {p})',
                       [now, old[0], "cid.pdf", "application/pdf", "x/cid.pdf", "0" * 64])
    finally:
        migrations.run()
    assert {"subject", "body"}.isdisjoint(c.name for c in db.get_columns("outbound_email"))
    rows = {r.id: r for r in OutboundEmail.with_message().where(OutboundEmail.id.in_(old))}
    assert [(rows[i].recipients, rows[i].subject, rows[i].body, rows[i].status) for i in old] == [
        ("uno@example.it", "Vecchio primo", "Testo di Vecchio primo", "sent"),
        ("due@example.it", "Vecchio secondo", "Testo di Vecchio secondo", "sent")]
    assert rows[old[0]].message_id != rows[old[1]].message_id and OutboundMessage.select().count() == 2
    assert [a.filename for a in OutboundAttachment.select().where(OutboundAttachment.email == old[0])] == ["cid.pdf"]
    [new] = write(["nuovo@example.it"], subject="Dopo la migrazione")  # the next message id follows the copied ones
    assert OutboundEmail.with_message().where(OutboundEmail.id == new).get().subject == "Dopo la migrazione"
