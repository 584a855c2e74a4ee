"""The file sent to the insurer's claims office by e-mail or PEC, from the claim page.

It leaves through the outbox like every e-mail (retried, sent once), its attachments
read from storage when it is sent (`notify.attach`: references, never copies). Over
`MAIL_MAX_ATTACHMENT_BYTES` it goes as numbered messages, each within the limit, or as
the dossier. The history records what went where with each message's Message-ID; sent
to a PEC it interrupts the prescription (art. 2943 c.c.: the insurer received a written
claim); a claim still Affidata moves to Richiesta inviata, the insurer's receipt dated
today.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from models import Attachment, Claim, ClaimDossier, ClaimStatus, StatusChange, User, db, utcnow, validators

from . import claim_letter, clock, engine, notify
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


def default_to(claim: Claim) -> tuple[str, bool]:
    """The addressee insurer's PEC, else its claims-office e-mail; and whether it is a PEC."""
    to = claim_letter.addressee(claim)
    return (to.pec, True) if to.pec else (to.email, False)


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
         split_ok: bool = False, limit: int, sender: str, today: dt.date | None = None) -> list[int]:
    """Queue the message(s) to the claims office; returns the outbox ids."""
    if not may_send(user, claim):
        raise NotAllowed(_l("La pratica %(number)s non può essere inviata all'ufficio sinistri ora.",
                            number=claim.number))
    errors = FieldErrors()
    address = errors.check(_address, to)
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
    return _queue(claim, user, address, parts, message.strip(), sender, today or clock.today())


def _address(value) -> str:
    try:
        return validators.email((value or "").strip(), "to")
    except validators.InvalidValue as exc:
        raise InvalidData(exc.message, "to") from exc


def _queue(claim, user, address, parts, body, sender, today) -> list[int]:
    pec = address.lower() == (claim_letter.addressee(claim).pec or "").lower()
    subject = f"Richiesta di risarcimento danni - pratica {claim.number}"
    with db.atomic():
        ids = []
        for n, part in enumerate(parts, 1):
            numbered = f"{subject} ({n} di {len(parts)})" if len(parts) > 1 else subject
            [email_id] = notify.write([(claim.id, [address], numbered, body)])
            notify.attach([email_id], [f.as_row() for f in part])
            ids.append(email_id)
        created = {e.id: e.created_at for e in notify.outbox_rows(ids)}
        names = "; ".join(", ".join(f.name for f in part) for part in parts)
        message_ids = ", ".join(notify.message_id(i, created[i], sender) for i in ids)
        StatusChange.create(claim=claim, at=utcnow(), actor=user, actor_label=str(user), event=SEND_EVENT,
                            from_status=claim.status, to_status=claim.status,
                            note=f"Inviata all'ufficio sinistri ({'PEC' if pec else 'e-mail'}) {address}: {names}. "
                                 f"Message-ID {message_ids}")
        saved = Claim.get_by_id(claim.id)
        if saved.status == ClaimStatus.ASSIGNED:  # its receipt interrupts prescription by itself
            engine.apply("file_claim", saved, user, filed_on=today, procedure=saved.procedure,
                         note=f"Richiesta danni inviata all'ufficio sinistri il {today:%d/%m/%Y} "
                              f"({'PEC' if pec else 'e-mail'} a {address}).")
    notify.flush()
    log.info("claim %s sent to the claims office %s by %s in %d message(s)", claim.number, address, user.login,
             len(parts))
    return ids
