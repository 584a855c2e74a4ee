"""The file sent to the insurer's claims office by e-mail or PEC, from the claim page.

It goes only to an address of the addressee insurer: its registered claims-office PEC or
e-mail, or one the call centre approved (`insurer_addresses`); an address typed in the form
is refused. It leaves through the outbox like every e-mail (retried, sent once), its
attachments read from storage when it is sent (`notify.attach`: references, never copies).
Over `MAIL_MAX_ATTACHMENT_BYTES` it goes as numbered messages, each within the limit, or as
the dossier. The history records what went where with each message's Message-ID when it is
queued; the claim is filed only once the message is delivered (`claims_office_delivery`):
a message waiting in the outbox has reached nobody.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from models import (Attachment, Claim, ClaimDossier, ClaimsOfficeSending, ClaimStatus, OutboundEmail, StatusChange,
                    User, db, utcnow)

from . import claim_letter, insurer_addresses, notify
from .errors import FieldErrors, InvalidData, NotAllowed

log = logging.getLogger("gessin.workflows")

SEND_EVENT = "claims_office"
SENDABLE = (ClaimStatus.ASSIGNED, ClaimStatus.FILED, ClaimStatus.PARTIALLY_REIMBURSED)


@dataclass(frozen=True)
class File:
    """One file an e-mail carries, as `notify.attach` takes it."""

    name: str
    content_type: str
    stored_name: str
    size: int
    sha256: str

    def as_row(self) -> tuple:
        return self.name, self.content_type, self.stored_name, self.size, self.sha256


def may_send(user: User | None, claim: Claim) -> bool:
    """Those who prepare the letter, once the file is entrusted and until it is over."""
    return claim_letter.may_prepare(user, claim) and claim.status in SENDABLE


def addresses(claim: Claim) -> list[insurer_addresses.Address]:
    """Where the form may send the claim: the addressee insurer's registered and approved addresses."""
    return insurer_addresses.allowed(claim)


def files_of(claim: Claim, attachment_ids) -> list[File]:
    """The claim's own documents among `attachment_ids`, in the order they were given."""
    wanted = [int(i) for i in attachment_ids]
    rows = {a.id: a for a in Attachment.select().where(Attachment.claim == claim, Attachment.id.in_(wanted))}
    if set(wanted) - set(rows):
        raise InvalidData(_l("Uno dei documenti scelti non appartiene alla pratica."), "attachments")
    return [File(rows[i].original_name, rows[i].content_type, rows[i].stored_name, rows[i].size, rows[i].sha256)
            for i in dict.fromkeys(wanted)]


def dossier_file(claim: Claim) -> File | None:
    row = ClaimDossier.get_or_none(ClaimDossier.claim == claim)
    if row is None or row.state != "ready" or not row.stored_name:
        return None
    return File(f"fascicolo-{claim.number.replace('/', '-')}.pdf", "application/pdf", row.stored_name, row.size,
                row.sha256)


def split(files: list[File], limit: int) -> list[list[File]]:
    """The files in messages of at most `limit` bytes each, in their order (a file larger
    than the limit cannot go by e-mail: the caller refuses it)."""
    parts: list[list[File]] = [[]]
    for f in files:
        if parts[-1] and sum(x.size for x in parts[-1]) + f.size > limit:
            parts.append([])
        parts[-1].append(f)
    return parts


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".replace(".", ",") + " MB"


def send(claim: Claim, user: User, *, to: str, attachment_ids=(), use_dossier: bool = False, message: str = "",
         split_ok: bool = False, limit: int, sender: str) -> list[int]:
    """Queue the message(s) to the claims office; returns the outbox ids."""
    if not may_send(user, claim):
        raise NotAllowed(_l("La pratica %(number)s non può essere inviata all'ufficio sinistri ora.",
                            number=claim.number))
    errors = FieldErrors()
    address = errors.check(_address, claim, to)
    files = errors.check(files_of, claim, attachment_ids) or []
    if use_dossier:
        dossier = dossier_file(claim)
        if dossier is None:
            errors.add("use_dossier", _l("Il fascicolo non è pronto: preparalo prima di inviarlo."))
        else:
            files = [dossier] + files
    if not files:
        errors.add("attachments", _l("Scegli almeno un documento o il fascicolo."))
    if not (message or "").strip():
        errors.add("message", _l("Scrivi il testo del messaggio."))
    errors.raise_if_any()
    too_big = [f for f in files if f.size > limit]
    if too_big:
        raise InvalidData(_l("«%(name)s» (%(size)s) supera da solo il limite di %(limit)s per un'e-mail: invia il "
                             "fascicolo o stampalo per raccomandata.", name=too_big[0].name,
                             size=megabytes(too_big[0].size), limit=megabytes(limit)), "attachments")
    total = sum(f.size for f in files)
    parts = split(files, limit)
    if len(parts) > 1 and not split_ok:
        raise InvalidData(_l("Gli allegati scelti (%(total)s) superano il limite di %(limit)s per un'e-mail: invia il "
                             "fascicolo, oppure conferma l'invio in %(n)d messaggi numerati.",
                             total=megabytes(total), limit=megabytes(limit), n=len(parts)), "split")
    return _queue(claim, user, address, parts, message.strip(), sender)


def _address(claim: Claim, value) -> insurer_addresses.Address:
    """One of the addressee insurer's addresses, never one typed in the form."""
    found = insurer_addresses.find(claim, value)
    if found is not None:
        return found
    insurer = insurer_addresses.addressee_insurer(claim)
    if insurer is None:
        raise InvalidData(_l("La compagnia a cui va la richiesta non è nel registro: abbinala prima "
                             "(Anagrafiche > Compagnie da abbinare)."), "to")
    if not insurer_addresses.of_insurer(insurer):
        raise InvalidData(_l("%(insurer)s non ha un indirizzo dell'ufficio sinistri nel registro: il call center lo "
                             "aggiunge in Anagrafiche > Compagnie o in %(where)s.", insurer=insurer.name,
                             where=insurer_addresses.WHERE_TO_ADD), "to")
    raise InvalidData(_l("«%(to)s» non è un indirizzo dell'ufficio sinistri di %(insurer)s: scegli uno di quelli "
                         "registrati, oppure chiedi al call center di approvarlo in %(where)s.",
                         to=(value or "").strip(), insurer=insurer.name, where=insurer_addresses.WHERE_TO_ADD), "to")


def _queue(claim, user, to: insurer_addresses.Address, parts, body, sender) -> list[int]:
    """The messages in the outbox and the history's record of them; the claim is filed only
    when they are delivered (workflows/claims_office_delivery.py)."""
    subject = f"Richiesta di risarcimento danni - pratica {claim.number}"
    how = "PEC" if to.is_pec else "e-mail"
    with db.atomic():
        sending = ClaimsOfficeSending.create(claim=claim, kind=to.kind, address=to.address, sent_by=user,
                                             files_claim=claim.status == ClaimStatus.ASSIGNED)
        ids = []
        for n, part in enumerate(parts, 1):
            numbered = f"{subject} ({n} di {len(parts)})" if len(parts) > 1 else subject
            [email_id] = notify.write([(claim.id, [to.address], numbered, body)])
            notify.attach([email_id], [f.as_row() for f in part])
            ids.append(email_id)
        OutboundEmail.update(claims_office_sending=sending).where(OutboundEmail.id.in_(ids)).execute()
        created = {e.id: e.created_at for e in notify.outbox_rows(ids)}
        names = "; ".join(", ".join(f.name for f in part) for part in parts)
        message_ids = ", ".join(notify.message_id(i, created[i], sender) for i in ids)
        StatusChange.create(claim=claim, at=utcnow(), actor=user, actor_label=str(user), event=SEND_EVENT,
                            from_status=claim.status, to_status=claim.status,
                            note=f"Inviata all'ufficio sinistri ({how}) {to.address}: {names}. "
                                 f"Message-ID {message_ids}")
    notify.flush()
    log.info("claim %s queued for the claims office %s (%s) by %s in %d message(s)", claim.number, to.address,
             to.kind, user.login, len(parts))
    return ids
