"""Claims sent by WinCar: a new file ("nuovo") or a follow-up ("seguito").

All or nothing: the claim row, its attachments' rows and their files are written
in one transaction, and the files of a transaction that fails are removed again
(unless the failure came after the COMMIT: see `attachments.discard_unsaved`).
The same "nuovo" sent twice (WinCar retries on time-outs) returns the first claim.
A seguito that meets a change made meanwhile is applied again on the claim as it now is.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import peewee as pw
from flask_babel import lazy_gettext as _l
from playhouse.shortcuts import model_to_dict

from models import AspCentre, Attachment, Claim, Repairer, StatusChange, db, utcnow

from . import engine, field_changes, next_due, notify, who_pays
from .attachments import add_rows, discard_unsaved, write_file
from .duplicates import duplicates_of
from .errors import Conflict, InvalidData
from .insurers import insurers_named, keep_hand_set  # noqa: F401 (insurers_named: the API's entry)

log = logging.getLogger("gessin.intake")

FOLLOWUP_ATTEMPTS = 3  # a seguito that meets a change made meanwhile is applied again, this many times in all

# The claim data a seguito may update (the parties and the number never change this way).
UPDATABLE = (
    "customer_name", "customer_fiscal_code", "customer_phone", "customer_email", "customer_address",
    "accident_date", "accident_time", "accident_place", "vehicle_count",
    "vehicle_a_plate", "vehicle_a_country", "vehicle_a_insurer", "vehicle_a_insurer_name", "vehicle_a_policy",
    "vehicle_a_driver", "vehicle_a_circumstances", "vehicle_b_plate", "vehicle_b_country", "vehicle_b_insurer",
    "vehicle_b_insurer_name", "vehicle_b_policy",
    "vehicle_b_driver", "vehicle_b_circumstances", "injuries", "injured_persons", "witnesses", "signed_by_both",
    "injured_driver_a_only", "passengers_injured", "disability_pct",
    "estimate_amount", "wincar_assessment", "insurer", "direct_compensation", "direct_compensation_reason",
    "possible_duplicates",
)


@dataclass
class Document:
    kind: str
    filename: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Received:
    claim: Claim
    created: bool
    attachments_added: int = 0
    notified: list[int] = field(default_factory=list)


def find_centre(vat_number: str) -> AspCentre:
    centre = AspCentre.get_or_none(AspCentre.vat_number == vat_number)
    if centre is None or not centre.active:
        raise InvalidData(_l("Centro ASP con partita IVA %(vat)s non trovato o non attivo sul portale: "
                             "verificare i dati nella tabella Legali di WinCar.", vat=vat_number),
                          "asp_centre.partita_iva")
    return centre


def find_own_claim(repairer: Repairer, wincar_ref: str | None, number: str | None) -> Claim:
    """The repairer's own claim by WinCar reference or portal number; never someone else's."""
    query = Claim.select().where(Claim.repairer == repairer)
    claim = query.where(Claim.number == number).first() if number else None
    if claim is None and wincar_ref:
        claim = query.where(Claim.wincar_ref == wincar_ref).first()
    if claim is None:
        raise InvalidData(_l("Pratica non trovata tra quelle della vostra carrozzeria: per un primo invio "
                             "usare l'evento «nuovo»."), "wincar_ref")
    return claim


class _Files:
    """Documents written before the transaction (so it stays short), removed if it fails."""

    def __init__(self, storage_dir, documents: list["Document"]):
        self.stored = []
        try:
            for doc in documents:
                self.stored.append(write_file(doc.kind, doc.filename, doc.data, storage_dir))
        except BaseException:
            if self.stored:
                log.info("%d documents written before the failure removed", len(self.stored))
            self.remove()
            raise

    def add_rows(self, claim, *, new_claim: bool = False) -> int:
        return add_rows(claim, self.stored, source="wincar", new_claim=new_claim)

    def remove(self) -> None:
        """No row points to these files (the transaction never ran, or rolled back)."""
        for stored in self.stored:
            Path(stored.path).unlink(missing_ok=True)

    def discard(self, failure: BaseException) -> None:
        """After the transaction failed: remove the files unless their rows may have been saved."""
        discard_unsaved(self.stored, failure)


def receive_new(repairer: Repairer, wincar_ref: str, centre: AspCentre, fields: dict,
                documents: list[Document], storage_dir) -> Received:
    """Open the claim with its documents, or return the one this WinCar file already made."""
    from .claims import open_claim
    existing = _sent_before(repairer, wincar_ref)
    if existing is not None:
        return Received(existing, created=False)
    claim = Claim(repairer=repairer, asp_centre=centre, wincar_ref=wincar_ref, **fields)
    mark_duplicates(claim)  # the verdict and the debtor insurer: `open_claim`
    files = _Files(storage_dir, documents)
    try:
        with db.atomic():
            claim = open_claim(claim, None, source="wincar")
            files.add_rows(claim, new_claim=True)
    except pw.IntegrityError:
        files.remove()
        notify.discard()
        existing = _sent_before(repairer, wincar_ref)
        if existing is None:
            raise
        return Received(existing, created=False)  # a concurrent send of the same file won
    except BaseException as exc:
        files.discard(exc)
        notify.discard()
        raise
    sent = notify.flush()
    log.info("claim %s received from WinCar (%s) with %d documents", claim.number, wincar_ref, len(documents))
    return Received(claim, created=True, attachments_added=len(documents), notified=sent)


def _sent_before(repairer: Repairer, wincar_ref: str) -> Claim | None:
    """The claim this WinCar file already made, if any (its id looked up first: most are new)."""
    found = (Claim.select(Claim.id).where(Claim.repairer == repairer, Claim.wincar_ref == wincar_ref)
             .tuples().first())
    return Claim.get_by_id(found[0]) if found else None


def receive_followup(claim: Claim, fields: dict, documents: list[Document], storage_dir) -> Received:
    """Add new documents (a changed document becomes a new version), update the data, tell everyone.

    `fields` holds only what the seguito sent: a column it leaves out keeps the claim's
    value; one sent as null is cleared (WinCar says it no longer has it). The history
    row names each changed field with its old and new value.

    A seguito only adds: if the claim changed between reading and writing (a clerk's
    action), it is read again and the seguito applied to it, up to FOLLOWUP_ATTEMPTS
    times; then `Conflict` stands (the API answers 503: a machine cannot reload a page).
    """
    for attempt in range(1, FOLLOWUP_ATTEMPTS + 1):
        try:
            return _apply_followup(claim, fields, documents, storage_dir)
        except Conflict:
            if attempt == FOLLOWUP_ATTEMPTS:
                log.warning("claim %s: seguito given up, the claim changed %d times meanwhile", claim.number, attempt)
                raise
            log.info("claim %s changed during a seguito: applying it again (attempt %d)", claim.number, attempt + 1)
            claim = Claim.get_by_id(claim.id)


def _apply_followup(claim: Claim, fields: dict, documents: list[Document], storage_dir) -> Received:
    known = {(a.kind, a.sha256) for a in Attachment.select(Attachment.kind, Attachment.sha256)
             .where(Attachment.claim == claim)}
    fields = keep_hand_set(claim, dict(fields))
    fields.update(assess(Claim(**{**model_to_dict(claim, recurse=False), **{k: v for k, v in fields.items() if k in UPDATABLE}})))
    new_docs = [d for d in documents if (d.kind, d.sha256) not in known]
    changes = {name: value for name, value in fields.items()
               if name in UPDATABLE and _differs(getattr(claim, f"{name}_id" if name.endswith("insurer") else name),
                                                 value)}
    if not new_docs and not changes:
        return Received(claim, created=False)  # a retried seguito: nothing new, no e-mail
    files = _Files(storage_dir, new_docs)
    try:
        with db.atomic():
            note = _followup_note(new_docs, field_changes.describe(claim, changes))
            _update(claim, changes)
            files.add_rows(claim)
            saved = Claim.get_by_id(claim.id)
            StatusChange.create(claim=claim, at=utcnow(), actor=None, actor_label="WinCar", event="seguito",
                                from_status=saved.status, to_status=saved.status, note=note)
            # The file complete now goes back to validation in this transaction, and the
            # seguito's one e-mail per party says so (not a second one in the same second).
            before = saved.status
            saved = engine.complete_if_ready(saved, None, announce=False)
            notify.queue(saved, notify.recipients(saved), "followup", note=note,
                         documents=[d.filename for d in new_docs], changed=sorted(changes),
                         completed=saved.status != before)
    except BaseException as exc:
        files.discard(exc)
        notify.discard()
        raise
    sent = notify.flush()
    log.info("claim %s: seguito from WinCar, %d new documents, %d fields changed",
             claim.number, len(new_docs), len(changes))
    return Received(saved, created=False, attachments_added=len(new_docs), notified=sent)


def assess(claim: Claim) -> dict:
    """The portal's own direct-compensation verdict, the debtor insurer it implies
    (`who_pays.reassess`: one chosen by hand stays), and possible duplicates, set on `claim`
    and returned."""
    return {**who_pays.reassess(claim), **mark_duplicates(claim)}


def mark_duplicates(claim: Claim) -> dict:
    """Other claims with the same plate and accident date, set on `claim` and returned."""
    numbers = ",".join(c.number for c in duplicates_of(claim))[:300] or None
    claim.possible_duplicates = numbers
    return {"possible_duplicates": numbers}


def _differs(current, new) -> bool:
    new_id = getattr(new, "id", new)
    return current != new_id


def _update(claim: Claim, changes: dict) -> None:
    if not changes:
        return
    values = {getattr(Claim, name): value for name, value in changes.items()}
    # the signatures move the offer term: the next deadline is written with them
    values.update({Claim.version: Claim.version + 1, Claim.updated_at: utcnow()})
    if not next_due.update_claim(claim, values, Claim.version == claim.version, changes=changes):
        raise Conflict(engine.conflict_message(claim))


def _followup_note(documents: list[Document], changed: list[str]) -> str:
    parts = []
    if documents:
        parts.append("nuovi documenti: " + ", ".join(f"{d.filename} ({d.kind})" for d in documents))
    if changed:
        parts.append("dati aggiornati: " + "; ".join(changed))
    return "Seguito da WinCar: " + "; ".join(parts) + "."
