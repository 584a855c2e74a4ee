"""Outbox e-mails with files, through Flask-Mail, to a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import email
import email.policy
import hashlib
import threading

import pytest
from aiosmtpd.controller import Controller

from models import OutboundAttachment, OutboundEmail, db
from tasks import mail
from tasks.mailer import OutboxMessage
from workflows import notify
from workflows.attachments import storage_path, store_attachment

from .test_mail import free_port, new_claim, outbox, parties, queue, reload, worker_app  # noqa: F401 - fixtures

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 400  # every byte value, about 100 KB
JPEG = b"\xff\xd8\xff\xe0" + bytes(reversed(range(256))) * 300


class Sessions:
    """aiosmtpd handler keeping each accepted message with the SMTP session it came in."""

    def __init__(self):
        self.received: list[tuple[int, email.message.EmailMessage]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self._lock:
            self.received.append((id(session), parsed))
        return "250 2.0.0 Ok: queued"


@pytest.fixture
def server(worker_app):
    handler = Sessions()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    worker_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_RETRY_BASE_SECONDS=1)
    yield handler
    controller.stop()


def _with_files(parties, worker_app, *files):
    claim = new_claim(parties)
    stored = [store_attachment(claim, kind, name, data, storage_dir=worker_app.config["STORAGE_DIR"])
              for kind, name, data in files]
    with db.atomic():
        [email_id] = notify.write([(claim.id, ["sinistri@compagnia.it"], f"Pratica {claim.number}: documentazione",
                                    "In allegato la documentazione della pratica.")])
        notify.attach([email_id], [(a.original_name, a.content_type, a.stored_name, a.size, a.sha256)
                                   for a in stored])
    notify.discard()
    return OutboundEmail.get_by_id(email_id), stored


def test_an_email_carries_exactly_the_chosen_files_byte_for_byte(server, parties, queue, worker_app):
    row, stored = _with_files(parties, worker_app, ("denuncia", "denuncia è firmata.pdf", PDF),
                              ("foto", "foto-1.jpg", JPEG))
    mail.deliver.call_local(row.id)
    assert reload(row).status == "sent"
    [(_, message)] = server.received
    parts = [(p.get_filename(), p.get_content_type(), hashlib.sha256(p.get_content()).hexdigest())
             for p in message.iter_attachments()]
    assert parts == [(a.original_name, a.content_type, a.sha256) for a in stored]
    assert message.get_body(("plain",)).get_content().strip() == "In allegato la documentazione della pratica."
    assert message["X-Gessin-Outbox-Id"] == str(row.id)


def test_the_database_keeps_a_reference_to_the_file_never_its_bytes(parties, queue, worker_app):
    row, stored = _with_files(parties, worker_app, ("denuncia", "denuncia.pdf", PDF))
    [item] = OutboundAttachment.select().where(OutboundAttachment.email == row.id)
    assert (item.stored_name, item.size, item.sha256) == (stored[0].stored_name, len(PDF), stored[0].sha256)
    assert all(len(str(value)) < 300 for value in OutboundAttachment.select().dicts().get().values())


@pytest.mark.parametrize("damage", ["removed", "changed"])
def test_a_file_gone_or_changed_before_sending_fails_the_email_with_its_name_and_no_retry(
        server, parties, queue, worker_app, damage):
    row, stored = _with_files(parties, worker_app, ("denuncia", "denuncia.pdf", PDF))
    path = storage_path(worker_app.config["STORAGE_DIR"], stored[0].stored_name)
    path.unlink() if damage == "removed" else path.write_bytes(PDF + b"altro")
    mail.deliver.call_local(row.id)
    row = reload(row)
    assert row.status == "failed" and "denuncia.pdf" in row.last_error and row.next_attempt_at is None
    assert server.received == [] and queue.scheduled_count() == 0


def test_a_batch_goes_over_one_smtp_connection(server, parties, queue, worker_app):
    claims = [new_claim(parties) for _ in range(3)]
    ids = [row.id for row in outbox() if row.claim_id in {c.id for c in claims}]
    notify.discard()
    mail.deliver_many.call_local(ids)
    assert sorted(int(m["X-Gessin-Outbox-Id"]) for _, m in server.received) == sorted(ids)
    assert len({session for session, _ in server.received}) == 1
    assert all(reload(OutboundEmail.get_by_id(i)).status == "sent" for i in ids)


def test_flask_mail_is_told_to_send_under_testing_and_never_to_print_the_session(worker_app):
    assert worker_app.testing is True
    assert worker_app.config["MAIL_SUPPRESS_SEND"] is False and worker_app.config["MAIL_DEBUG"] == 0
    assert worker_app.extensions["mail"].suppress is False and worker_app.extensions["mail"].debug == 0


def test_a_long_subject_stays_on_one_header_line(worker_app):
    subject = "[Gessin] Conferma di avvenuta presa in carico della denuncia 2026/000001 — mancano il mandato"
    with worker_app.app_context():
        raw = OutboxMessage(subject=subject, recipients=["a@example.it"], sender="b@example.it", body="testo").as_bytes()
    [line] = [line for line in raw.split(b"\r\n") if line.startswith(b"Subject:")]
    assert str(email.message_from_bytes(raw, policy=email.policy.default)["Subject"]) == subject
    assert line != b"Subject:"  # not moved to a continuation line


def test_the_outbox_shows_a_body_with_its_paragraphs_and_escaped(client, f):
    from models import Role

    from .conftest import login
    body = "Gentile utente,\n\nla pratica <b>2026/000001</b> è stata validata.\n\n- riga uno\n- riga due"
    row = f.outbox_email(recipients="a@example.it", subject="Prova", body=body)
    login(client, f.user(Role.ADMIN))
    page = client.get(f"/admin/outbox/details/?id={row.id}").get_data(as_text=True)
    shown = ('<div class="email-body">Gentile utente,\n\nla pratica &lt;b&gt;2026/000001&lt;/b&gt; è stata validata.'
             '\n\n- riga uno\n- riga due</div>')
    assert shown in page
    assert ".email-body { white-space: pre-wrap; }" in page
