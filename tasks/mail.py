"""Sending the outbox: one huey task per e-mail, retried with back-off, plus a sweep.

Nothing is lost: a message that cannot go now stays `failed` with its last error and
a next attempt time; the task reschedules itself, and the periodic sweep re-queues
anything whose task went missing (a worker restart, a flushed queue).
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from flask_mail import Message
from huey import crontab
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from models import ClaimStatus, OutboundEmail, utcnow

from . import database, flask_app, huey

log = logging.getLogger("gessin.mail")

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                   keep_trailing_newline=True, autoescape=False)
_env.globals["status_label"] = lambda status: str(ClaimStatus.LABELS.get(status, status))

LOCK_SECONDS = 120
MAX_DELAY = 3600


def render(template: str, **context) -> tuple[str, str]:
    """(subject, body) of `templates/email/<template>.txt`: the first line is the subject."""
    text = _env.get_template(f"{template}.txt").render(**context)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


def backoff(attempts: int, base: int = 15) -> int:
    """Seconds before the next try: 15 s, 30 s, 1 min, ... capped at an hour."""
    return min(base * 2 ** max(attempts - 1, 0), MAX_DELAY)


def dispatch(email_ids: list[int]) -> None:
    for email_id in email_ids:
        deliver(email_id)


@huey.task()
def deliver(email_id: int) -> str:
    """Send one outbox row; safe to run twice (a sent row is never sent again)."""
    app = flask_app()
    with app.app_context(), database():
        return _deliver(app, email_id)


def _claim_row(email_id: int) -> bool:
    """Take the row for this worker, unless it is sent or another worker holds it."""
    now = utcnow()
    return bool(OutboundEmail.update(locked_until=now + dt.timedelta(seconds=LOCK_SECONDS))
                .where(OutboundEmail.id == email_id, OutboundEmail.status != "sent",
                       (OutboundEmail.locked_until.is_null()) | (OutboundEmail.locked_until < now))
                .execute())


def _deliver(app, email_id: int) -> str:
    if not app.config.get("MAIL_SERVER"):
        OutboundEmail.update(last_error="SMTP non configurato: messaggio non inviato", next_attempt_at=None) \
            .where(OutboundEmail.id == email_id, OutboundEmail.status != "sent").execute()
        return "no-smtp"
    if not _claim_row(email_id):
        return "skipped"
    email = OutboundEmail.get_by_id(email_id)
    try:
        app.extensions["mail"].send(Message(subject=email.subject, recipients=[email.recipients], body=email.body,
                                            extra_headers={"X-Gessin-Outbox-Id": str(email.id)}))
    except Exception as exc:  # SMTP down, refused, timed out: try again later
        attempts = email.attempts + 1
        delay = backoff(attempts)
        OutboundEmail.update(status="failed", attempts=attempts, last_error=f"{type(exc).__name__}: {exc}"[:2000],
                             next_attempt_at=utcnow() + dt.timedelta(seconds=delay), locked_until=None) \
            .where(OutboundEmail.id == email_id).execute()
        log.warning("e-mail %s to %s not sent (attempt %d), retry in %d s: %s",
                    email_id, email.recipients, attempts, delay, exc)
        deliver.schedule((email_id,), delay=delay)
        return "failed"
    OutboundEmail.update(status="sent", sent_at=utcnow(), attempts=email.attempts + 1, last_error=None,
                         next_attempt_at=None, locked_until=None).where(OutboundEmail.id == email_id).execute()
    log.info("e-mail %s sent to %s (claim %s)", email_id, email.recipients, email.claim_id)
    return "sent"


@huey.periodic_task(crontab(minute="*"))
@huey.lock_task("outbox-sweep")
def sweep_outbox() -> int:
    """Re-queue every unsent message whose next attempt is due."""
    app = flask_app()
    if not app.config.get("MAIL_SERVER"):
        return 0
    with app.app_context(), database():
        due = [row.id for row in OutboundEmail.select(OutboundEmail.id).where(
            OutboundEmail.status != "sent", OutboundEmail.next_attempt_at <= utcnow())]
    for email_id in due:
        deliver(email_id)
    return len(due)


def resend(email_ids: list[int]) -> int:
    """An admin's 'send again': due now, and queued."""
    unsent = OutboundEmail.select(OutboundEmail.id).where(OutboundEmail.id.in_(list(email_ids)),
                                                          OutboundEmail.status != "sent")
    ids = [row.id for row in unsent]
    OutboundEmail.update(next_attempt_at=utcnow(), locked_until=None).where(OutboundEmail.id.in_(ids)).execute()
    dispatch(ids)
    return len(ids)
