"""Storing a claim's documents: generated names, sha256, versions per type."""
from __future__ import annotations

import hashlib
import logging
import uuid
from pathlib import Path

import peewee as pw

from models import Attachment, Claim, User, utcnow

log = logging.getLogger("gessin.workflows")

# Magic numbers of the formats a scanned document may come in.
_SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"II*\x00", "image/tiff", ".tif"),
    (b"MM\x00*", "image/tiff", ".tif"),
)


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) read from the bytes themselves, or None if not allowed."""
    for magic, content_type, ext in _SIGNATURES:
        if data.startswith(magic):
            return content_type, ext
    return None


def storage_path(storage_dir: str | Path, stored_name: str) -> Path:
    return Path(storage_dir) / stored_name[:2] / stored_name


def store_attachment(claim: Claim, kind: str, original_name: str, data: bytes, *,
                     storage_dir: str | Path, source: str = "web", actor: User | None = None) -> Attachment:
    """Write the file under a generated name and add its row as the next version of `kind`.

    The caller's transaction covers the row; the file is written first and removed
    again if the row cannot be saved, so neither outlives the other.
    """
    sniffed = sniff(data)
    if sniffed is None:
        raise ValueError("unsupported document format")
    content_type, ext = sniffed
    stored_name = uuid.uuid4().hex + ext
    path = storage_path(storage_dir, stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    try:
        last = (Attachment.select(pw.fn.MAX(Attachment.version))
                .where(Attachment.claim == claim, Attachment.kind == kind).scalar()) or 0
        attachment = Attachment.create(
            claim=claim, kind=kind, original_name=original_name, stored_name=stored_name,
            content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
            version=last + 1, source=source, uploaded_at=utcnow(), uploaded_by=actor,
        )
    except Exception:
        path.unlink(missing_ok=True)
        raise
    log.info("claim %s: attachment %s v%d stored (%d bytes)", claim.number, kind, attachment.version, len(data))
    return attachment


def add_document(claim: Claim, kind: str, original_name: str, data: bytes, *, storage_dir: str | Path,
                 source: str = "web", actor: User | None = None) -> Attachment:
    """Store a document; if it completes an incomplete claim, the claim goes back to validation."""
    from . import engine
    attachment = store_attachment(claim, kind, original_name, data, storage_dir=storage_dir,
                                  source=source, actor=actor)
    engine.complete_if_ready(Claim.get_by_id(claim.id), actor)
    return attachment
