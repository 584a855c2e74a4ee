"""The outbox against a real SMTP server (aiosmtpd on 127.0.0.1) and the real huey worker.

Each e-mail is written in the transaction of the change and sent after commit by the
`deliver` task; with SMTP down it is retried with back-off, and every message arrives
exactly once (the SMTP server sees each X-Gessin-Outbox-Id once).
"""
from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import os
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from huey.exceptions import TaskLockedException

import tasks
from models import Claim, OutboundEmail, Role, utcnow
from tasks import huey, mail
from tasks.mailer import OutboxConnection
from workflows import engine, notify

from . import factories
from .conftest import login

ROOT = Path(__file__).resolve().parent.parent
CONSUMER = Path(sys.executable).parent / "huey_consumer"


# ---- a real SMTP server ------------------------------------------------------------

@dataclass(frozen=True)
class Received:
    recipients: tuple[str, ...]
    subject: str
    outbox_id: int | None
    message_id: str
    body: str


class Recorder:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages: list[Received] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        outbox_id = parsed["X-Gessin-Outbox-Id"]
        with self._lock:
            self.messages.append(Received(tuple(envelope.rcpt_tos), str(parsed["Subject"]),
                                          int(outbox_id) if outbox_id else None, str(parsed["Message-ID"]),
                                          parsed.get_content()))
        return "250 Messaggio accettato"

    def outbox_ids(self) -> list[int]:
        with self._lock:
            return [m.outbox_id for m in self.messages]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """An SMTP server on 127.0.0.1 that can be stopped and started again on the same port."""

    def __init__(self, **smtp_options):
        self.host, self.port = "127.0.0.1", free_port()
        self.handler = Recorder()
        self._options = smtp_options
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[Received]:
        return list(self.handler.messages)

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname=self.host, port=self.port, **self._options)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuses_connections(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex((self.host, self.port)) != 0


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


# ---- the app the tasks run in, the queue -------------------------------------------

MAIL_KEYS = ("MAIL_SERVER", "MAIL_PORT", "MAIL_RETRY_BASE_SECONDS", "MAIL_USERNAME", "MAIL_PASSWORD")


@pytest.fixture
def worker_app(app):
    """The test app as the one `tasks.flask_app()` gives the tasks; its mail settings restored after."""
    saved_config, saved_app = {key: app.config.get(key) for key in MAIL_KEYS}, tasks._app
    tasks._app = app
    yield app
    app.config.update(saved_config)
    tasks._app = saved_app


@pytest.fixture
def mail_app(worker_app, smtp):
    worker_app.config.update(MAIL_SERVER=smtp.host, MAIL_PORT=smtp.port, MAIL_RETRY_BASE_SECONDS=1)
    return worker_app


@pytest.fixture
def queue():
    """An empty huey queue and schedule (other tests leave deliver tasks behind), emptied again after."""
    assert not huey.immediate, "these tests drive the huey queue: HUEY_IMMEDIATE must be off"
    huey.flush()
    yield huey
    huey.flush()


def run_queued() -> int:
    """Run the queued tasks as a worker would: those due now run (their count is
    returned), retries for later go to the schedule."""
    ran = 0
    while huey.pending_count() and (task := huey.dequeue()) is not None:  # Redis blocks on an empty queue
        ran += huey.ready_to_run(task)
        huey.execute(task)
    return ran


@pytest.fixture
def parties(f):
    return SimpleNamespace(f=f, centre=f.centre(), repairer=f.repairer(), admin=f.user(Role.ADMIN))


def new_claim(parties) -> Claim:
    return parties.f.claim(parties.repairer, parties.centre)


def outbox(**where) -> list[OutboundEmail]:
    query = OutboundEmail.select().order_by(OutboundEmail.id)
    for name, value in where.items():
        query = query.where(getattr(OutboundEmail, name) == value)
    return list(query)


def reload(row: OutboundEmail) -> OutboundEmail:
    return OutboundEmail.get_by_id(row.id)


def wait_for(condition, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    states = [(row.id, row.recipients, row.status, row.attempts, row.last_error) for row in outbox()]
    pytest.fail(f"not within {timeout:.0f} s: {what}\noutbox: {states}")


# ---- rendering and writing -----------------------------------------------------------

def test_a_new_claim_writes_the_two_italian_emails_with_number_and_link(parties, queue):
    claim = new_claim(parties)
    link = f"http://127.0.0.1/admin/claim/details/?id={claim.id}"
    rows = {row.recipients: row for row in outbox(claim=claim.id)}
    assert set(rows) == {parties.repairer.email, parties.centre.email}

    to_repairer, to_centre = rows[parties.repairer.email], rows[parties.centre.email]
    assert to_repairer.subject == f"[Gessin] Conferma di avvenuta presa in carico della denuncia {claim.number}"
    assert to_centre.subject == f"[Gessin] Nuovo inserimento denuncia {claim.number}"
    for row in rows.values():
        assert f"Numero denuncia web: {claim.number}" in row.body and f"Apri la pratica: {link}" in row.body
        assert (row.status, row.attempts, row.sent_at, row.last_error) == ("pending", 0, None, None)
    assert huey.pending_count() == 2  # one deliver task each, queued after the commit


def test_a_status_change_renders_an_italian_subject_and_the_link(parties):
    claim = new_claim(parties)
    subject, body = mail.render("status_change", claim=claim, claim_url=notify.claim_url(claim), event="validate",
                                event_label="Valida", old_status="received", new_status="validated", note=None,
                                actor="Call Center", missing=[])
    assert subject == f"Pratica {claim.number}: validata, pronta per l'affidamento"
    assert "Lo stato passa da «Ricevuta» a «Validata»." in body


def test_an_incomplete_file_says_what_is_missing_in_the_subject(parties):
    claim = new_claim(parties)
    subject, body = mail.render("status_change", claim=claim, claim_url=notify.claim_url(claim),
                                event="mark_incomplete", event_label="Segna incompleta", old_status="received",
                                new_status="incomplete", note=None, actor="Centro Alfa",
                                missing=["il mandato", "il documento d'identità"])
    assert subject == f"Pratica {claim.number}: documentazione incompleta — mancano il mandato e il documento d'identità"
    assert "Segna incompleta" not in subject + body  # a sentence, not the button's label
    assert "  - il mandato\n  - il documento d'identità" in body
    assert f"Apri la pratica: http://127.0.0.1/admin/claim/details/?id={claim.id}" in body


# ---- delivery ----------------------------------------------------------------------------

def test_deliver_sends_marks_the_row_sent_and_a_second_run_sends_nothing(mail_app, smtp, queue, parties):
    claim = new_claim(parties)
    row = outbox(recipients=parties.repairer.email)[0]

    mail.deliver.call_local(row.id)
    row = reload(row)
    assert (row.status, row.attempts, row.last_error, row.locked_until) == ("sent", 1, None, None)
    assert row.sent_at is not None and abs(row.sent_at - utcnow()) < dt.timedelta(minutes=1)
    [received] = smtp.messages
    assert received.recipients == (parties.repairer.email,) and received.outbox_id == row.id
    assert received.subject == row.subject and claim.number in received.subject
    assert f"?id={claim.id}" in received.body and "Gentile" in received.body

    mail.deliver.call_local(row.id)  # the same task delivered twice
    assert len(smtp.messages) == 1 and reload(row).attempts == 1


def test_each_queued_task_delivers_its_row_once(mail_app, smtp, queue, parties):
    new_claim(parties)
    ids = [row.id for row in outbox()]
    mail.dispatch(ids)  # the same e-mails queued a second time
    assert run_queued() == 4
    assert sorted(smtp.handler.outbox_ids()) == ids
    assert {row.status for row in outbox()} == {"sent"}


def test_a_message_of_a_deleted_claim_is_still_delivered(mail_app, smtp, queue, parties):
    claim = new_claim(parties)
    row = outbox(recipients=parties.centre.email)[0]
    claim.delete_instance(recursive=True)
    assert reload(row).claim_id is None

    mail.deliver.call_local(row.id)
    assert reload(row).status == "sent" and smtp.handler.outbox_ids() == [row.id]


def test_a_row_deleted_before_its_task_runs_is_skipped(mail_app, smtp, queue, parties):
    new_claim(parties)
    row = outbox()[0]
    row.delete_instance()
    mail.deliver.call_local(row.id)
    assert smtp.messages == []


def test_smtp_down_marks_the_row_failed_and_schedules_one_retry(mail_app, smtp, queue, parties):
    smtp.stop()
    new_claim(parties)
    huey.flush()  # the tasks queued by the claim: this test runs the delivery by hand
    row = outbox(recipients=parties.repairer.email)[0]
    before = utcnow()

    mail.deliver.call_local(row.id)
    row = reload(row)
    assert (row.status, row.attempts, row.sent_at, row.locked_until) == ("failed", 1, None, None)
    assert row.last_error.startswith("Invio non riuscito: ConnectionRefusedError")
    assert before < row.next_attempt_at <= utcnow() + dt.timedelta(seconds=1)  # base of 1 s from the config
    [retry] = [huey.dequeue()]
    assert retry.args == (row.id,) and retry.eta >= row.next_attempt_at and huey.pending_count() == 0

    mail.deliver.call_local(row.id)  # a stray second task before the retry is due: it stops there
    assert reload(row).attempts == 1 and huey.pending_count() == 0


def test_backoff_doubles_from_the_configured_base_up_to_an_hour(worker_app):
    assert [mail.backoff(n, 15) for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert mail.backoff(9, 15) == 3600 and mail.backoff(100_000, 15) == 3600
    assert mail.retry_base(worker_app.config) == 15
    worker_app.config["MAIL_RETRY_BASE_SECONDS"] = 2
    assert mail.retry_base(worker_app.config) == 2


def test_the_smtp_password_never_reaches_the_outbox_or_the_log(worker_app, queue, parties, caplog, capfd):
    password = "s3greto-smtp"
    server = SmtpServer(auth_require_tls=False, authenticator=lambda *args: AuthResult(success=False, handled=False))
    server.start()
    try:
        worker_app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_USERNAME="gessin",
                                 MAIL_PASSWORD=password)
        new_claim(parties)
        row = outbox()[0]
        mail.deliver.call_local(row.id)
    finally:
        server.stop()
    row = reload(row)
    assert row.status == "failed" and "SMTPAuthenticationError" in row.last_error and server.messages == []
    secrets = (password, base64.b64encode(f"\0gessin\0{password}".encode()).decode())
    captured = capfd.readouterr()
    for text in (row.last_error, caplog.text, captured.out, captured.err):
        assert not any(secret in text for secret in secrets)


def test_an_error_quoting_the_password_is_masked(worker_app, queue, parties, monkeypatch, caplog):
    worker_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_PASSWORD="s3greto-smtp")

    def refuse(connection):
        raise smtplib.SMTPAuthenticationError(535, b"credenziali gessin/s3greto-smtp rifiutate")

    monkeypatch.setattr(OutboxConnection, "configure_host", refuse)
    new_claim(parties)
    row = outbox()[0]
    mail.deliver.call_local(row.id)
    assert "gessin/***" in reload(row).last_error
    assert "s3greto" not in reload(row).last_error and "s3greto" not in caplog.text


def test_dispatch_never_fails_the_change_when_the_queue_is_down(app, queue, parties, monkeypatch):
    def unreachable(task):
        raise ConnectionError("coda non raggiungibile")

    monkeypatch.setattr(huey, "enqueue", unreachable)
    claim = new_claim(parties)  # committed, and no exception after the commit
    assert {row.status for row in outbox(claim=claim.id)} == {"pending"}
    assert all(row.next_attempt_at <= utcnow() for row in outbox())  # due: the sweep will send them


# ---- no SMTP configured (the embedded default) -----------------------------------------

def test_without_smtp_messages_stay_unsent_and_readable_in_the_outbox(worker_app, queue, parties, client):
    assert not worker_app.config.get("MAIL_SERVER")
    claim = new_claim(parties)
    assert run_queued() == 2
    for row in outbox():
        assert (row.status, row.attempts, row.sent_at, row.next_attempt_at) == ("pending", 0, None, None)
        assert row.last_error.startswith("SMTP non configurato: messaggio non inviato")
    assert mail.sweep_outbox.call_local() == 0 and huey.pending_count() == 0

    login(client, parties.admin)
    page = client.get("/admin/outbox/").get_data(as_text=True)
    assert claim.number in page and "SMTP non configurato" in page and "In attesa" in page


# ---- resend and the sweep -----------------------------------------------------------------

def test_resend_sends_a_failed_row_once_the_server_is_up_and_never_a_sent_one(mail_app, smtp, queue, parties):
    smtp.stop()
    new_claim(parties)
    run_queued()
    failed, other = outbox()
    assert (failed.status, other.status) == ("failed", "failed") and failed.attempts >= 1

    smtp.start()
    assert mail.resend([failed.id]) == 1 and run_queued() == 1
    sent = reload(failed)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", failed.attempts + 1, None)
    assert smtp.handler.outbox_ids() == [failed.id] and reload(other).status == "failed"

    assert mail.resend([failed.id]) == 0 and run_queued() == 0
    assert smtp.handler.outbox_ids() == [failed.id]


def test_resend_leaves_alone_a_row_a_worker_is_sending(mail_app, smtp, queue, parties):
    new_claim(parties)
    huey.flush()
    row = outbox()[0]
    held_until = utcnow() + dt.timedelta(minutes=5)
    OutboundEmail.update(locked_until=held_until).where(OutboundEmail.id == row.id).execute()
    assert mail.resend([row.id]) == 1 and run_queued() == 1
    assert smtp.messages == [] and reload(row).locked_until == held_until


def lost_row(**values) -> OutboundEmail:
    data = {"claim": None, "recipients": "perso@example.it", "subject": "[Gessin] Messaggio rimasto indietro",
            "body": "Testo di prova.\n", "status": "failed", "attempts": 3,
            "last_error": "Invio non riuscito: prova", "next_attempt_at": utcnow() - dt.timedelta(minutes=5)}
    return factories.outbox_email(**{**data, **values})


def test_the_sweep_requeues_a_due_row_whose_task_was_lost(mail_app, smtp, queue):
    due = lost_row()
    lost_row(next_attempt_at=utcnow() + dt.timedelta(hours=1))  # its own retry is still to come
    lost_row(status="sent", sent_at=utcnow(), next_attempt_at=None)
    lost_row(locked_until=utcnow() + dt.timedelta(minutes=5))  # a worker is sending it

    assert mail.sweep_outbox.call_local() == 1 and run_queued() == 1
    assert smtp.handler.outbox_ids() == [due.id]
    due = reload(due)
    assert (due.status, due.attempts, due.last_error) == ("sent", 4, None)
    assert mail.sweep_outbox.call_local() == 0


def test_the_sweep_does_not_run_while_another_holds_its_lock(mail_app, smtp, queue):
    lost_row()
    with huey.lock_task("outbox-sweep"), pytest.raises(TaskLockedException):
        mail.sweep_outbox.call_local()
    assert huey.pending_count() == 0
    assert mail.sweep_outbox.call_local() == 1  # released


# ---- the real worker through an outage ------------------------------------------------------

@pytest.fixture
def consumer(app, smtp, queue, tmp_path):
    """`huey_consumer tasks.huey` in a subprocess, configured as in production by the
    environment; always terminated, its log printed if the test fails."""
    env = {key: value for key, value in os.environ.items() if key != "HUEY_IMMEDIATE"}
    env.update(DATABASE_URL=app.config["DATABASE_URL"], PUBLIC_URL=app.config["PUBLIC_URL"],
               MAIL_SERVER=smtp.host, MAIL_PORT=str(smtp.port), MAIL_RETRY_BASE_SECONDS="1",
               PYTHONPATH=str(ROOT))
    log_path = tmp_path / "huey_consumer.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen([str(CONSUMER), "tasks.huey", "--workers", "2", "--worker-type", "thread",
                                    "--max-delay", "0.5"],
                                   cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        yield SimpleNamespace(process=process, log=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        sys.stdout.write(f"\n--- huey_consumer log ---\n{log_path.read_text(errors='replace')[-6000:]}\n")


def act_on_claims(parties, count: int) -> list[Claim]:
    """Open claims and move them twice through the workflow: six e-mails each."""
    claims = [new_claim(parties) for _ in range(count)]
    for claim in claims:
        engine.apply("mark_incomplete", claim, parties.admin, missing=["doc:mandato"], note="Manca il mandato")
    for claim in claims:
        engine.apply("drop", Claim.get_by_id(claim.id), parties.admin, reason="no_cover")
    return claims


def test_an_smtp_outage_every_message_arrives_exactly_once(app, smtp, consumer, parties):
    smtp.stop()
    assert smtp.refuses_connections()
    claims = act_on_claims(parties, 3)
    expected = len(claims) * 6
    assert len(outbox()) == expected

    def all_retried():
        rows = outbox()
        return all(r.status == "failed" and r.attempts >= 2 and r.last_error for r in rows) and rows
    rows = wait_for(all_retried, 45, "every e-mail failed at least twice while SMTP is down")
    assert all("Invio non riuscito" in row.last_error for row in rows) and smtp.messages == []

    smtp.start()
    wait_for(lambda: all(r.status == "sent" for r in outbox()), 60, "every e-mail sent once SMTP is back")
    wait_for(lambda: huey.pending_count() == 0 and huey.scheduled_count() == 0, 30,
             "the retries still scheduled have run (and sent nothing more)")
    assert consumer.process.poll() is None, "the worker died"

    rows = outbox()
    received = Counter(smtp.handler.outbox_ids())
    assert [row_id for row_id, times in received.items() if times > 1] == []  # no duplicates
    assert sorted(received) == [row.id for row in rows]  # none missing
    by_id = {m.outbox_id: m for m in smtp.messages}
    for row in rows:
        assert by_id[row.id].recipients == (row.recipients,) and by_id[row.id].subject == row.subject
        assert row.sent_at is not None and row.attempts >= 3 and row.last_error is None
    assert len({m.message_id for m in smtp.messages}) == expected


def test_a_password_is_sent_once_and_then_removed_from_the_outbox(mail_app, smtp, queue, parties):
    from workflows import credentials
    _, password = credentials.issue(parties.repairer)
    assert run_queued() >= 1
    [received] = [m for m in smtp.messages if "Credenziali WinCar" in m.subject]
    assert password in received.body and "[[segreto]]" not in received.body
    row = outbox(recipients=parties.repairer.email)[-1]
    assert row.status == "sent" and password not in row.body and "rimossa dopo l'invio" in row.body


def test_a_wincar_intake_emails_arrive_at_the_smtp_server(mail_app, smtp, queue, parties, client):
    import base64

    from workflows.credentials import hash_password

    from models import Repairer
    Repairer.update(wincar_user="SMTP-PROVA", wincar_password_hash=hash_password("segreta-123")) \
        .where(Repairer.id == parties.repairer.id).execute()
    from .test_intake import payload
    response = client.post("/api/v1/claims", json=payload(parties.centre), headers={
        "Authorization": "Basic " + base64.b64encode(b"SMTP-PROVA:segreta-123").decode()})
    assert response.status_code == 201
    run_queued()
    subjects = {m.recipients[0]: m.subject for m in smtp.messages}
    number = response.json["number"]
    assert "Conferma di avvenuta presa in carico della denuncia" in subjects[parties.repairer.email]
    assert "Nuovo inserimento denuncia" in subjects[parties.centre.email]
    assert all(number in s for s in subjects.values())


def test_many_emails_of_one_change_are_handed_over_in_batches(mail_app, smtp, queue, parties):
    from models import db
    claim = new_claim(parties)
    huey.flush()
    before = {m.outbox_id for m in smtp.messages}
    with db.atomic():  # one change that writes 60 e-mails (a reminders' digest day, say)
        notify.write([(claim.id, [f"destinatario{n}@example.it" for n in range(60)], "Oggetto", "Testo")])
    notify.flush()
    assert huey.pending_count() == 2  # 60 e-mails in tasks of 50
    run_queued()
    sent = [m.outbox_id for m in smtp.messages if m.outbox_id not in before]
    rows = outbox(status="sent")
    assert len(sent) == 60 == len(set(sent)) and {r.id for r in rows} >= set(sent)
