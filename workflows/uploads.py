"""Documents uploaded from the claim page: the same checks as WinCar's (the bytes' own type,
the size limits), all or nothing, and an incomplete file back in validation when its last
missing document arrives."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l

from models import Attachment, AttachmentKind, Claim, ClaimStatus, Role, StatusChange, User, db, utcnow

from . import access, checklist, engine, notify
from .attachments import StoredFile, add_rows, discard_unsaved, sniff, write_file
from .errors import FieldErrors, NotAllowed

log = logging.getLogger("gessin.workflows")

UPLOAD_EVENT = "upload"
STAFF = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER)


@dataclass(frozen=True)
class Upload:
    """One file as the browser sent it."""

    name: str
    data: bytes


def may_upload(claim: Claim, user: User) -> bool:
    """Staff add documents to an open claim they see; a repairer only to its own incomplete
    claim, to send what is missing."""
    if user is None or not user.is_active or not access.sees(user, claim):
        return False
    if user.role in STAFF:
        return claim.status not in ClaimStatus.FINAL
    return user.role == Role.REPAIRER and claim.status == ClaimStatus.INCOMPLETE


def kinds_for(claim: Claim, user: User) -> list[tuple[str, str]]:
    """The document types offered: for a repairer, what its file lacks first."""
    kinds = [(code, str(label)) for code, label in AttachmentKind.LABELS.items()]
    if user.role != Role.REPAIRER:
        return kinds
    lacking = {code.partition(":")[2] for code in checklist.recorded_missing(claim) if code.startswith("doc:")}
    return sorted(kinds, key=lambda kind: kind[0] not in lacking)


def upload(claim: Claim, user: User, kind: str, files: list[Upload], *, storage_dir: str | Path,
           max_file_bytes: int) -> list[Attachment]:
    """Store `files` as documents of `kind`, each the next version of its type, in one
    transaction; every wrong file is named at once and nothing is saved."""
    if not may_upload(claim, user):
        raise NotAllowed(_l("Non puoi aggiungere documenti alla pratica %(number)s nel suo stato attuale.",
                            number=claim.number))
    errors = FieldErrors()
    if kind not in AttachmentKind.LABELS:
        errors.add("kind", _l("Scegli il tipo di documento."))
    files = [f for f in files if f.name or f.data]
    if not files:
        errors.add("files", _l("Scegli almeno un file da caricare."))
    for f in files:
        if not f.data:
            errors.add("files", _l("«%(name)s» è vuoto.", name=f.name))
        elif len(f.data) > max_file_bytes:
            errors.add("files", _l("«%(name)s» supera il limite di %(mb)d MB per file.", name=f.name,
                                   mb=max_file_bytes // (1024 * 1024)))
        elif sniff(f.data) is None:
            errors.add("files", _l("«%(name)s» non è un PDF, JPEG, PNG o TIFF.", name=f.name))
    errors.raise_if_any()
    stored: list[StoredFile] = []
    try:
        for f in files:
            stored.append(write_file(kind, f.name, f.data, storage_dir))
        with db.atomic():
            add_rows(claim, stored, source="web", actor=user)
            names = ", ".join(s.original_name for s in stored)
            StatusChange.create(claim=claim, at=utcnow(), actor=user, actor_label=str(user), event=UPLOAD_EVENT,
                                from_status=claim.status, to_status=claim.status,
                                note=f"{AttachmentKind.LABELS[kind]}: {names}")
            saved = engine.complete_if_ready(Claim.get_by_id(claim.id), user)
            if user.role == Role.REPAIRER and saved.status == claim.status:  # the centre hears of it
                notify.queue(saved, [saved.asp_centre.email], "documents_uploaded", actor=str(user),
                             kind=str(AttachmentKind.LABELS[kind]), names=[s.original_name for s in stored])
    except BaseException as exc:
        discard_unsaved(stored, exc)
        notify.discard()
        raise
    notify.flush()
    log.info("claim %s: %d document(s) uploaded by %s", claim.number, len(stored), user.login)
    return list(Attachment.select().where(Attachment.stored_name.in_([s.stored_name for s in stored])))
