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

import peewee as pw

from models import Claim, OutboundAttachment, OutboundEmail, OutboundMessage, db, insert_rows, utcnow

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
    """Write the message once and one outbox row per address; call inside the transaction of the change."""
    return queue_each(claim, [(to, template, context)])


def queue_each(claim: Claim | None, messages: Iterable[tuple[Iterable[str], str, dict]]) -> list[int]:
    """Several messages about one claim, each (addresses, template, context): one INSERT
    of their texts, one of their recipients."""
    url, claim_id = (claim_url(claim), claim.id) if claim else (None, None)
    return write([(claim_id, to, *render(template, claim=claim, claim_url=url, **context))
                  for to, template, context in messages])


Outgoing = tuple[int | None, Iterable[str], str, str]  # (claim id, addresses, subject, body)


def write(messages: Iterable[Outgoing]) -> list[int]:
    """Messages (claim id, addresses, subject, body), pending: each text stored once, one
    outbox row per address, in one INSERT per 500 of each. Returns the rows' ids, message
    by message and address by address."""
    messages = [(claim_id, addresses, subject, body) for claim_id, to, subject, body in messages
                for addresses in _stored_apart(_addresses(to), body) if addresses]
    if not messages:
        return []
    now = utcnow()
    message_ids = insert_rows(OutboundMessage, [
        OutboundMessage.subject, OutboundMessage.body, OutboundMessage.created_at],
        [(subject, body, now) for _, _, subject, body in messages])
    ids = insert_rows(OutboundEmail, [
        OutboundEmail.claim, OutboundEmail.recipients, OutboundEmail.message, OutboundEmail.status,
        OutboundEmail.attempts, OutboundEmail.next_attempt_at, OutboundEmail.created_at],
        [(claim_id, address, message_id, "pending", 0, now, now)
         for (claim_id, addresses, _, _), message_id in zip(messages, message_ids, strict=True)
         for address in addresses])
    remember(ids)
    return ids


def _addresses(to: Iterable[str]) -> list[str]:
    if isinstance(to, str):  # one address would be written as one row per character
        raise TypeError("addresses: a list of addresses, not one string")
    return list(to)


def _stored_apart(addresses: list[str], body: str) -> list[list[str]]:
    """The recipients that share one stored text: all of them, except for a text carrying
    a secret (a password), kept once per recipient so that each copy loses its secret as
    soon as it is sent (`forget_secret`), whatever becomes of the others."""
    return [[address] for address in addresses] if SECRET.search(body) else [addresses]


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


def forget_secret(email: OutboundEmail) -> int:
    """Once `email` is sent: its message's secret removed, unless another recipient of
    the same text still waits for it. Call in the transaction that marks it sent.
    Returns 1 if the text was rewritten.

    `write` never shares a text with a secret, so this normally rewrites it at once. For a
    shared one, two recipients marked sent at the same moment in two transactions may each
    see the other still waiting: the secret then stays, never goes while one still needs it."""
    if not SECRET.search(email.body):
        return 0
    waiting = OutboundEmail.select(OutboundEmail.id).where(
        OutboundEmail.message == email.message_id, OutboundEmail.id != email.id, OutboundEmail.status != "sent")
    return (OutboundMessage.update(body=without_secrets(email.body))
            .where(OutboundMessage.id == email.message_id, ~pw.fn.EXISTS(waiting)).execute())


def for_sending(body: str) -> str:
    """The body as the recipient reads it: the markers around a secret are dropped."""
    return SECRET.sub(lambda m: m.group(1), body)


def discard() -> None:
    """Forget e-mails of a transaction that rolled back (their rows are gone too)."""
    _pending.ids = []
