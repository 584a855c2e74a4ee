"""Sending the outbox: one huey task per e-mail, retried with back-off, plus a sweep.

Nothing is lost: a message that cannot go now stays `failed` with its last error and
a next attempt time; the task reschedules itself, and the periodic sweep re-queues
anything whose task went missing (a worker restart, a flushed queue). A row is sent at
most once: a worker takes it (`locked_until`) only while it is unsent and due, and any
other task for the same row gives up without rescheduling.

Messages go out through smtplib rather than Flask-Mail: Flask-Mail 0.10 sets no SMTP
timeout (a hung server would outlive the row lock and the message would go twice),
prints credentials in debug mode and sends nothing while TESTING is on.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import smtplib
import ssl
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path

from flask_babel import force_locale
from huey import crontab
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from models import ClaimStatus, OutboundEmail, utcnow
from workflows import dates, notify

from . import database, flask_app, huey

log = logging.getLogger("gessin.mail")

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                   keep_trailing_newline=True, autoescape=False)


@functools.cache
def _italian_labels() -> dict[str, str]:
    """E-mails are in Italian whoever triggers them; translated once, not once per e-mail."""
    with force_locale("it"):
        return {status: str(label) for status, label in ClaimStatus.LABELS.items()}


_env.globals["status_label"] = lambda status: _italian_labels().get(status, status)
# The same date and time formatters as the grids: dd/mm/yyyy, Rome time, with or without a request.
_env.filters.update(gessin_when=dates.format_moment, gessin_date=dates.format_date)

SMTP_TIMEOUT = 20  # seconds per SMTP command: a whole session stays well inside LOCK_SECONDS
LOCK_SECONDS = 300  # how long a worker holds a row; only a crashed worker lets it expire
DUE_GRACE = dt.timedelta(seconds=0.5)  # a retry runs at or after its next_attempt_at: this only absorbs rounding
MAX_DELAY = 3600
DEFAULT_RETRY_BASE = 15
SWEEP_BATCH = 500
# Headers on one line up to the RFC 5322 limit: the 78-column folding of the default
# policy starts long subjects on a continuation line, which many readers show with a blank.
ONE_LINE_HEADERS = email_policy.SMTP.clone(max_line_length=998)
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
    """Send a batch of outbox rows, one after the other (each row taken and released alone)."""
    app = flask_app()
    with app.app_context(), database():
        for email_id in email_ids:
            _deliver(app.config, email_id)


@huey.task()
def deliver(email_id: int) -> None:
    """Send one outbox row; safe to run twice (a sent row is never sent again).

    Returns nothing: huey would keep any returned value in its result store forever.
    """
    app = flask_app()
    with app.app_context(), database():
        outcome = _deliver(app.config, email_id)
    log.debug("e-mail %s: %s", email_id, outcome)


def _deliver(config, email_id: int) -> str:
    if not config.get("MAIL_SERVER"):
        _mark_not_configured(email_id)
        return "no-smtp"
    email = _take(email_id)
    if email is None:
        return "skipped"
    try:
        _send(config, email)
    except Exception as exc:  # noqa: BLE001 - SMTP down, refused, timed out: try again later
        _failed(config, email, exc)
        return "failed"
    _sent(email)
    return "sent"


def _mark_not_configured(email_id: int) -> None:
    OutboundEmail.update(last_error=NOT_CONFIGURED, next_attempt_at=None) \
        .where(OutboundEmail.id == email_id, OutboundEmail.status != "sent").execute()


def _take(email_id: int) -> OutboundEmail | None:
    """The row, held by this worker; None when it is sent, gone, not due yet (another
    task owns its next try) or being sent by another worker."""
    now = utcnow()
    taken = (OutboundEmail.update(locked_until=now + dt.timedelta(seconds=LOCK_SECONDS))
             .where(OutboundEmail.id == email_id, OutboundEmail.status != "sent",
                    OutboundEmail.next_attempt_at.is_null() | (OutboundEmail.next_attempt_at <= now + DUE_GRACE),
                    OutboundEmail.locked_until.is_null() | (OutboundEmail.locked_until < now))
             .execute())
    return OutboundEmail.get_or_none(OutboundEmail.id == email_id) if taken else None


def _send(config, email: OutboundEmail) -> None:
    message = _message(config, email)
    smtp = _connect(config)
    try:
        smtp.send_message(message, from_addr=parseaddr(message["From"])[1], to_addrs=[email.recipients])
    finally:
        _quit(smtp)


def _message(config, email: OutboundEmail) -> EmailMessage:
    sender = config.get("MAIL_DEFAULT_SENDER") or "Gessin <noreply@gessin.local>"
    sender = formataddr(sender) if isinstance(sender, (tuple, list)) else sender
    domain = parseaddr(sender)[1].rpartition("@")[2] or "gessin.local"
    created = email.created_at.strftime("%Y%m%d%H%M%S") if email.created_at else "0"
    message = EmailMessage(policy=email_policy.SMTP)
    message["Subject"] = email.subject
    message["From"] = sender
    message["To"] = email.recipients
    message["Date"] = formatdate(localtime=True)
    # The same Message-ID on every try of a row, so a mail client can drop a duplicate.
    message["Message-ID"] = f"<gessin.outbox.{email.id}.{created}@{domain}>"
    message["X-Gessin-Outbox-Id"] = str(email.id)
    message.set_content(notify.for_sending(email.body), cte="quoted-printable")  # 7-bit safe, lines within 76 columns
    message.policy = ONE_LINE_HEADERS
    return message


def _connect(config) -> smtplib.SMTP:
    """An SMTP session with a timeout and verified TLS; never in debug mode, which
    would print the credentials and the bodies."""
    host, port = config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25)
    if config.get("MAIL_USE_SSL"):
        smtp = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    try:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME") and config.get("MAIL_PASSWORD"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    """Close the session; a failing QUIT after an accepted message must not make it
    look unsent (it would be sent again)."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _failed(config, email: OutboundEmail, exc: Exception) -> None:
    attempts = email.attempts + 1
    delay = backoff(attempts, retry_base(config))
    error = _describe(config, exc)
    OutboundEmail.update(status="failed", attempts=attempts, last_error=f"Invio non riuscito: {error}"[:2000],
                         next_attempt_at=utcnow() + dt.timedelta(seconds=delay), locked_until=None) \
        .where(OutboundEmail.id == email.id).execute()
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


def _sent(email: OutboundEmail) -> None:
    OutboundEmail.update(status="sent", sent_at=utcnow(), attempts=email.attempts + 1, last_error=None,
                         next_attempt_at=None, locked_until=None, body=notify.without_secrets(email.body)) \
        .where(OutboundEmail.id == email.id).execute()
    log.info("e-mail %s sent (claim %s)", email.id, email.claim_id)


@huey.periodic_task(crontab(minute="*"))
@sweep_lock
def sweep_outbox() -> int:
    """Re-queue the unsent messages whose next attempt is due and that no worker holds."""
    app = flask_app()
    if not app.config.get("MAIL_SERVER"):
        return 0
    with app.app_context(), database():
        due = _due_ids()
    dispatch(due)
    return len(due)


def _due_ids() -> list[int]:
    now = utcnow()
    query = (OutboundEmail.select(OutboundEmail.id)
             .where(OutboundEmail.status != "sent", OutboundEmail.next_attempt_at <= now,
                    OutboundEmail.locked_until.is_null() | (OutboundEmail.locked_until < now))
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
