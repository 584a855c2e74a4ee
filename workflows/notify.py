"""E-mails to everyone linked to a claim, written to the outbox inside the caller's
transaction and handed to the sender only once that transaction has committed.

The app wires two plain callables at start-up (`configure`): `render(template, **context)`
giving (subject, body), and `dispatch(email_ids)` that queues the sending. Workflows
never render a template or talk to SMTP themselves.
"""
from __future__ import annotations

import re
import threading
from email.utils import parseaddr
from typing import Callable, Iterable

from models import Claim, OutboundAttachment, OutboundEmail, db, insert_rows, utcnow

_render: Callable[..., tuple[str, str]] | None = None
_dispatch: Callable[[list[int]], None] | None = None
_settings = {"public_url": "http://127.0.0.1:5000"}
_pending = threading.local()


def configure(render, dispatch, public_url: str) -> None:
    global _render, _dispatch
    _render, _dispatch = render, dispatch
    _settings["public_url"] = public_url.rstrip("/")


def absolute_url(path: str) -> str:
    """`path` on the portal's public address, for a link in an e-mail."""
    return f"{_settings['public_url']}{path}"


def claim_url(claim: Claim) -> str:
    return f"{_settings['public_url']}/admin/claim/details/?id={claim.id}"


def message_id(email_id: int, created_at, sender: str) -> str:
    """The Message-ID an outbox row goes out with, the same on every try (a mail client
    drops a duplicate by it), known before it is sent (a claim's history quotes it)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "gessin.local"
    created = created_at.strftime("%Y%m%d%H%M%S") if created_at else "0"
    return f"<gessin.outbox.{email_id}.{created}@{domain}>"


def recipients(claim: Claim) -> list[str]:
    """Repairer, ASP centre and lawyer (when there is one), each address once."""
    addresses = []
    for party in (claim.repairer, claim.asp_centre, claim.lawyer):
        if party is not None and party.email and party.email.lower() not in (a.lower() for a in addresses):
            addresses.append(party.email)
    return addresses


def render(template: str, **context) -> tuple[str, str]:
    if _render is None:
        raise RuntimeError("workflows.notify is not configured")
    return _render(template, **context)


def queue(claim: Claim | None, to: Iterable[str], template: str, **context) -> list[int]:
    """Write one outbox row per address; call inside the transaction of the change."""
    return queue_each(claim, [(to, template, context)])


def queue_each(claim: Claim | None, messages: Iterable[tuple[Iterable[str], str, dict]]) -> list[int]:
    """Several messages about one claim, each (addresses, template, context), in one INSERT."""
    url, rows = claim_url(claim) if claim else None, []
    for to, template, context in messages:
        subject, body = render(template, claim=claim, claim_url=url, **context)
        rows += [(claim.id if claim else None, address, subject, body) for address in to]
    return write(rows)


def write(rows: list[tuple[int | None, str, str, str]]) -> list[int]:
    """Outbox rows (claim id, address, subject, body), pending, in one INSERT per 500."""
    if not rows:
        return []
    now = utcnow()
    ids = insert_rows(OutboundEmail, [
        OutboundEmail.claim, OutboundEmail.recipients, OutboundEmail.subject, OutboundEmail.body,
        OutboundEmail.status, OutboundEmail.attempts, OutboundEmail.next_attempt_at, OutboundEmail.created_at],
        [(*row, "pending", 0, now, now) for row in rows])
    remember(ids)
    return ids


def outbox_rows(email_ids) -> list[OutboundEmail]:
    """The outbox rows `email_ids` (their id and creation time)."""
    return list(OutboundEmail.select(OutboundEmail.id, OutboundEmail.created_at)
                .where(OutboundEmail.id.in_(list(email_ids))))


def attach(email_ids: Iterable[int], files: Iterable[tuple[str, str, str, int, str]]) -> None:
    """Files each of `email_ids` carries, in order: (file name, content type, stored name
    under STORAGE_DIR, size, sha256). Only a reference is written, in the caller's
    transaction; the sender reads the bytes when the message goes."""
    files, now = list(files), utcnow()
    rows = [(email_id, position, *file, now) for email_id in email_ids for position, file in enumerate(files)]
    insert_rows(OutboundAttachment, [
        OutboundAttachment.email, OutboundAttachment.position, OutboundAttachment.filename,
        OutboundAttachment.content_type, OutboundAttachment.stored_name, OutboundAttachment.size,
        OutboundAttachment.sha256, OutboundAttachment.created_at], rows)


def remember(ids: list[int]) -> None:
    """E-mails written in the current transaction, to hand to the sender after commit."""
    if not hasattr(_pending, "ids"):
        _pending.ids = []
    _pending.ids.extend(ids)


def flush() -> list[int]:
    """Hand the e-mails written so far to the sender, once no transaction is open.

    Inside an open transaction this does nothing: the outer caller flushes after its
    commit. Anything never flushed (a crash) is picked up by the outbox sweep.
    """
    if db.in_transaction():
        return []
    ids, _pending.ids = list(getattr(_pending, "ids", [])), []
    if ids and _dispatch is not None:
        _dispatch(ids)
    return ids


SECRET = re.compile(r"\[\[segreto\]\](.*?)\[\[/segreto\]\]", re.S)


def without_secrets(body: str) -> str:
    """The body as it may be shown or kept once sent: a password between markers is removed."""
    return SECRET.sub("(rimossa dopo l'invio)", body)


def for_sending(body: str) -> str:
    """The body as the recipient reads it: the markers around a secret are dropped."""
    return SECRET.sub(lambda m: m.group(1), body)


def discard() -> None:
    """Forget e-mails of a transaction that rolled back (their rows are gone too)."""
    _pending.ids = []
