"""Sending the outbox: one huey task per e-mail, retried with back-off, plus a sweep.

Nothing is lost: a message that cannot go now stays `failed` with its last error and
a next attempt time; the task reschedules itself, and the periodic sweep re-queues
anything whose task went missing (a worker restart, a flushed queue).

A row is held by one worker while it is sent: `locked_by` names the worker, and the
lock is free as soon as that worker is gone (tasks/workers.py: a stale heartbeat, or a
process id no longer running on its host), so a killed consumer's rows go out seconds
after it is restarted (`requeue_after_restart`), not after the lock's ceiling.

At most once, with one documented exception (README, "E-mail reliability"): the row is
marked `sending` (committed) before the SMTP DATA command and `sent`, with the server's
reply, right after it; the marks are retried on a fresh connection if the database
connection drops. A row found `sending` whose worker is gone may have been delivered:
it is sent again, once per such loss, flagged `possible_duplicate` in the outbox grid,
with the same Message-ID so that a mail client can drop the copy.

Messages are composed and sent with Flask-Mail: a `flask_mail.Message` per row (its
attachments read from storage when it is sent, their sha256 checked), and one
`mail.connect()` connection for a batch of rows. Its gaps are closed in tasks/mailer.py:
the connection opens with RFC 5321's timeouts per phase (tasks/smtp.py; Flask-Mail sets
none), never in debug mode (`MAIL_DEBUG` would print the credentials), and
`MAIL_SUPPRESS_SEND` is set explicitly off, so that tests, which run with TESTING on,
deliver to a real SMTP server as production does.
"""
from __future__ import annotations

import datetime as dt
import email.charset
import functools
import hashlib
import logging
import time
from email.utils import formataddr, parseaddr
from pathlib import Path

from flask_babel import force_locale
from huey import crontab
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from models import ClaimStatus, OutboundAttachment, OutboundEmail, db, utcnow
from workflows import dates, notify
from workflows.attachments import storage_path

from . import database, flask_app, huey, retrying, smtp, workers
from .claims_office import after_sent
from .mailer import OutboxConnection, OutboxMessage, mail

log = logging.getLogger("gessin.mail")

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                   keep_trailing_newline=True, autoescape=False)


@functools.cache
def _italian_labels() -> dict[str, str]:
    """E-mails are in Italian whoever triggers them; translated once, not once per e-mail."""
    with force_locale("it"):
        return {status: str(label) for status, label in ClaimStatus.LABELS.items()}


@functools.cache
def _italian_kinds() -> dict[str, str]:
    from workflows.next_due import KIND_LABELS
    with force_locale("it"):
        return {kind: str(label) for kind, label in KIND_LABELS.items()}


_env.globals["status_label"] = lambda status: _italian_labels().get(status, status)
_env.globals["deadline_kind"] = lambda kind: _italian_kinds().get(kind, kind)
# The same date and time formatters as the grids: dd/mm/yyyy, Rome time, with or without a request.
_env.filters.update(gessin_when=dates.format_moment, gessin_date=dates.format_date)

# How long a worker holds a row at most: past the longest SMTP session (tasks/smtp.py). A
# worker that dies frees its rows at once (tasks/workers.py); only one alive but stuck waits this.
LOCK_SECONDS = smtp.SESSION_LIMIT + 60
SENT_MARK_ATTEMPTS = 10  # about 100 s of reconnecting: an accepted message unmarked would go again
DUE_GRACE = dt.timedelta(seconds=0.5)  # a retry runs at or after its next_attempt_at: this only absorbs rounding
MAX_DELAY = 3600
DEFAULT_RETRY_BASE = 15
SWEEP_BATCH = 500
# Bodies in quoted-printable: 7-bit safe, lines within 76 columns, whatever the server's
# extensions (Flask-Mail's default for UTF-8 is 8bit). A Charset of our own, not a global change.
UTF8_QP = email.charset.Charset("utf-8")
UTF8_QP.body_encoding = email.charset.QP
NOT_CONFIGURED = "SMTP non configurato: messaggio non inviato"

sweep_lock = huey.lock_task("outbox-sweep")


def render(template: str, **context) -> tuple[str, str]:
    """(subject, body) of `templates/email/<template>.txt`: the first line is the subject."""
    text = _env.get_template(f"{template}.txt").render(**context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


def retry_base(config) -> float:
    """MAIL_RETRY_BASE_SECONDS (config.py reads it from the environment), else 15 s."""
    return float(config.get("MAIL_RETRY_BASE_SECONDS") or DEFAULT_RETRY_BASE)


def backoff(attempts: int, base: float = DEFAULT_RETRY_BASE) -> float:
    """Seconds before the next try: base, 2 x base, 4 x base, ... capped at an hour."""
    return float(min(base * 2 ** min(max(attempts - 1, 0), 20), MAX_DELAY))


BATCH = 50


def dispatch(email_ids: list[int]) -> None:
    """Queue the deliveries: one task per e-mail for a single change, one task per 50
    for a bulk action. Runs after the commit, so it never raises: if the queue is
    unreachable the rows stay due in the outbox and the sweep sends them."""
    ids = list(email_ids)
    groups = [[i] for i in ids] if len(ids) <= BATCH else [ids[n:n + BATCH] for n in range(0, len(ids), BATCH)]
    for position, group in enumerate(groups):
        try:
            deliver(group[0]) if len(group) == 1 else deliver_many(group)
        except Exception as exc:  # noqa: BLE001 - whatever the queue raises, the change is committed
            log.error("task queue unreachable (%s): %d e-mail(s) left to the outbox sweep",
                      type(exc).__name__, sum(len(g) for g in groups[position:]))
            return


@huey.task()
def deliver_many(email_ids: list[int]) -> None:
    """Send a batch of outbox rows over one SMTP connection (each row taken and released alone)."""
    app = flask_app()
    with app.app_context(), database(), Session() as session:
        for email_id in email_ids:
            _deliver(app.config, email_id, session)


@huey.task()
def deliver(email_id: int) -> None:
    """Send one outbox row; safe to run twice (a sent row is never sent again).

    Returns nothing: huey would keep any returned value in its result store forever.
    """
    app = flask_app()
    with app.app_context(), database(), Session() as session:
        outcome = _deliver(app.config, email_id, session)
    log.debug("e-mail %s: %s", email_id, outcome)


class Session:
    """`mail.connect()`, opened at the first row that is sent and again after a failure
    (a connection that failed once is not trusted with the next message)."""

    def __init__(self):
        self.connection: OutboxConnection | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.drop()

    def get(self) -> OutboxConnection:
        if self.connection is None:
            connection = mail.connect()
            self.connection = connection.__enter__()
        return self.connection

    def drop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()


def _deliver(config, email_id: int, session: Session) -> str:
    if not config.get("MAIL_SERVER"):
        _mark_not_configured(email_id)
        return "no-smtp"
    owner = retrying(workers.current)
    email = retrying(lambda: _take(email_id, owner))
    if email is None:
        return "skipped"
    attempt = Attempt()
    try:
        message = _message(config, email)
    except MissingFile as exc:  # no retry brings a file back: the outbox grid shows why
        retrying(lambda: _failed(config, email, owner, exc, uncertain=False, retry=False))
        return "failed"
    try:
        _send(session, message, email, owner, attempt)
    except LockLost:
        return "skipped"
    except Exception as exc:  # noqa: BLE001 - SMTP down, refused, timed out: try again later
        session.drop()
        if attempt.reply is not None:  # accepted, and the database stayed away through every retry
            log.error("e-mail %s accepted by SMTP (%s) but not marked sent: %s", email_id,
                      smtp.reply_text(attempt.reply), type(exc).__name__)
            return "unmarked"  # left `sending`: sent again, flagged, only once this worker is gone
        retrying(lambda: _failed(config, email, owner, exc, uncertain=attempt.uncertain))
        return "failed"
    after_sent(email_id)  # a claim sent to its claims office is filed once delivered
    return "sent"


class Attempt:
    """What one try learnt from the server: its reply to DATA, or that it never came."""

    def __init__(self):
        self.reply, self.uncertain = None, False


def _send(session: Session, message: OutboxMessage, email: OutboundEmail, owner: str, attempt: Attempt) -> None:
    """One message on the batch's connection: "sending" committed before DATA, "sent" with
    the server's reply right after it, each write retried on a fresh connection if it drops."""
    connection = session.get()
    try:
        connection.send(message, envelope_from=parseaddr(message.sender)[1],
                        before_data=lambda: _mark_sending(email, owner))
    except BaseException:
        attempt.uncertain = connection.awaiting_data_reply
        raise
    attempt.reply = connection.data_reply
    retrying(lambda: _sent(email, attempt.reply), attempts=SENT_MARK_ATTEMPTS)


class LockLost(Exception):
    """Another worker took the row meanwhile (this one was judged gone): it sends, not us."""


def _mark_not_configured(email_id: int) -> None:
    OutboundEmail.update(last_error=NOT_CONFIGURED, next_attempt_at=None) \
        .where(OutboundEmail.id == email_id, OutboundEmail.status != "sent").execute()


def _lock_free(now):
    """No worker holds the row: never locked, past the ceiling, or its worker is gone."""
    return (OutboundEmail.locked_until.is_null() | (OutboundEmail.locked_until < now)
            | workers.owner_gone(OutboundEmail.locked_by))


def _take(email_id: int, owner: str) -> OutboundEmail | None:
    """The row, held by this worker; None when it is sent, gone, not due yet (another
    task owns its next try) or being sent by another worker. A row left `sending` by a
    worker that died may have been delivered: it goes again, flagged a possible duplicate."""
    now = utcnow()
    taken = (OutboundEmail.update(locked_by=owner, locked_until=now + dt.timedelta(seconds=LOCK_SECONDS))
             .where(OutboundEmail.id == email_id, OutboundEmail.status != "sent",
                    OutboundEmail.next_attempt_at.is_null() | (OutboundEmail.next_attempt_at <= now + DUE_GRACE),
                    _lock_free(now))
             .execute())
    email = OutboundEmail.with_message().where(OutboundEmail.id == email_id).first() if taken else None
    if email is not None and email.status == "sending" and not email.possible_duplicate:
        OutboundEmail.update(possible_duplicate=True).where(OutboundEmail.id == email_id).execute()
        email.possible_duplicate = True
        log.warning("e-mail %s was being sent by a worker that is gone: sent again, flagged as a possible "
                    "duplicate (same Message-ID)", email_id)
    return email


def _mark_sending(email: OutboundEmail, owner: str) -> None:
    """Committed before DATA: from here on the message may reach the recipient."""
    def mark():
        return OutboundEmail.update(status="sending", sending_at=utcnow()) \
            .where(OutboundEmail.id == email.id, OutboundEmail.locked_by == owner,
                   OutboundEmail.status != "sent").execute()
    if not retrying(mark):
        raise LockLost(email.id)


class MissingFile(Exception):
    """An attachment's file is gone from storage, or is no longer the file that was chosen."""


def _message(config, email: OutboundEmail) -> OutboxMessage:
    sender = config.get("MAIL_DEFAULT_SENDER") or "Gessin <noreply@gessin.local>"
    sender = formataddr(sender) if isinstance(sender, (tuple, list)) else sender
    message = OutboxMessage(subject=email.subject, recipients=[email.recipients], sender=sender,
                      body=notify.for_sending(email.body), date=time.time(), charset=UTF8_QP,
                      extra_headers={"X-Gessin-Outbox-Id": str(email.id)})
    # The same Message-ID on every try of a row, so a mail client can drop a duplicate.
    message.msgId = notify.message_id(email.id, email.created_at, sender)
    for item in email.attachments.order_by(OutboundAttachment.position):
        message.attach(item.filename, item.content_type, _stored_bytes(config, item))
    return message


def _stored_bytes(config, item: OutboundAttachment) -> bytes:
    """The attachment's bytes from storage, read now; refused if they changed since chosen."""
    try:
        data = storage_path(config["STORAGE_DIR"], item.stored_name).read_bytes()
    except OSError as exc:
        raise MissingFile(f"allegato {item.filename} non leggibile: {exc.strerror or exc}") from exc
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise MissingFile(f"allegato {item.filename} cambiato dopo la scelta (sha256 diverso)")
    return data


def _failed(config, email: OutboundEmail, owner: str, exc: Exception, uncertain: bool, retry: bool = True) -> None:
    """Not sent (or, `uncertain`, the reply to DATA never came: it may have been): retry
    later, unless no retry can help (`retry` False: an attachment gone). A row another
    worker took meanwhile is left to it."""
    attempts = email.attempts + 1
    delay = backoff(attempts, retry_base(config))
    error = _describe(config, exc)
    changed = OutboundEmail.update(
        status="failed", attempts=attempts, last_error=f"Invio non riuscito: {error}"[:2000],
        next_attempt_at=utcnow() + dt.timedelta(seconds=delay) if retry else None, locked_by=None,
        locked_until=None, possible_duplicate=OutboundEmail.possible_duplicate | uncertain) \
        .where(OutboundEmail.id == email.id, OutboundEmail.locked_by == owner).execute()
    if not changed:
        return
    if not retry:
        log.error("e-mail %s not sent, and not retried: %s", email.id, error)
        return
    log.warning("e-mail %s not sent (attempt %d), next try in %.0f s: %s", email.id, attempts, delay, error)
    try:
        deliver.schedule((email.id,), delay=delay)
    except Exception as queue_error:  # noqa: BLE001 - the queue is down too: the sweep finds the row when due
        log.error("e-mail %s: retry not queued (%s), left to the outbox sweep", email.id, type(queue_error).__name__)


def _describe(config, exc: Exception) -> str:
    """The error for the outbox grid and the log, without the SMTP password."""
    text = f"{type(exc).__name__}: {exc}"
    password = config.get("MAIL_PASSWORD")
    return text.replace(password, "***") if password else text


def _sent(email: OutboundEmail, reply) -> None:
    """Whoever holds the row now: the server accepted the message, so it is sent (and its
    text loses its secret, in the same transaction)."""
    with db.atomic():
        OutboundEmail.update(status="sent", sent_at=utcnow(), attempts=email.attempts + 1, last_error=None,
                             next_attempt_at=None, locked_by=None, locked_until=None,
                             smtp_reply=smtp.reply_text(reply)) \
            .where(OutboundEmail.id == email.id).execute()
        notify.forget_secret(email)
    email.status = "sent"
    log.info("e-mail %s sent (claim %s)", email.id, email.claim_id)


@huey.periodic_task(crontab(minute="*"))
@sweep_lock
def sweep_outbox() -> int:
    """Re-queue the unsent messages whose next attempt is due and that no worker holds
    (a worker that is gone holds nothing)."""
    app = flask_app()
    if not app.config.get("MAIL_SERVER"):
        return 0
    with app.app_context(), database():
        due = _due_ids()
    dispatch(due)
    return len(due)


@workers.on_start
def requeue_after_restart(recheck: bool = True) -> None:
    """When a consumer starts: what workers that are gone held, and whatever is due, is
    queued now rather than at the next sweep (a killed consumer took its running tasks
    with it). Queued twice is harmless: the second task finds the row sent or taken."""
    if not flask_app().config.get("MAIL_SERVER"):
        return
    held = [row.id for row in OutboundEmail.select(OutboundEmail.id).where(
        OutboundEmail.status != "sent", workers.owner_gone(OutboundEmail.locked_by))]
    if recheck:
        requeue_held.schedule(delay=workers.STALE_SECONDS + workers.BEAT_SECONDS)
    if held:
        log.warning("%d e-mail(s) held by workers that are gone, queued again: %s", len(held), held[:20])
    due = _due_ids()
    dispatch(held + [i for i in due if i not in set(held)])


@huey.task()
def requeue_held() -> None:
    """`requeue_after_restart` again once a worker on another host, which the process
    check cannot see, has had time to go stale."""
    app = flask_app()
    with app.app_context(), database():
        requeue_after_restart(recheck=False)


def _due_ids() -> list[int]:
    now = utcnow()
    query = (OutboundEmail.select(OutboundEmail.id)
             .where(OutboundEmail.status != "sent", OutboundEmail.next_attempt_at <= now, _lock_free(now))
             .order_by(OutboundEmail.next_attempt_at).limit(SWEEP_BATCH))
    return [row.id for row in query]


def resend(email_ids: list[int]) -> int:
    """An admin's 'send again': unsent rows become due now and are queued. A row a
    worker is sending keeps its lock; a sent row is never sent again."""
    unsent = OutboundEmail.select(OutboundEmail.id).where(OutboundEmail.id.in_(list(email_ids)),
                                                          OutboundEmail.status != "sent")
    ids = [row.id for row in unsent]
    if ids:
        OutboundEmail.update(next_attempt_at=utcnow()).where(OutboundEmail.id.in_(ids)).execute()
    dispatch(ids)
    return len(ids)
