"""Storing a claim's documents: generated names, sha256, versions per type."""
from __future__ import annotations

import errno
import hashlib
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath

import peewee as pw
from flask_babel import lazy_gettext as _l

from models import Attachment, Claim, User, db, insert_rows, utcnow
from models.connections import connection_lost

from .errors import StorageFull

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


# Other spellings of a sniffed type's extension that a name may keep as sent.
_SAME_EXTENSION = {".jpg": (".jpg", ".jpeg", ".jpe"), ".tif": (".tif", ".tiff")}
_NAME_LENGTH = 255  # Attachment.original_name


def named_as(name: str, ext: str) -> str:
    """`name` with the extension of the type sniffed from the bytes (`poly.html` -> `poly.pdf`).

    A name that already says the type, in any case (`foto.PNG`), stays as it is, so that
    what the user saves opens in the program the bytes are meant for.
    """
    path = PurePath(name or "")
    if path.suffix.lower() in _SAME_EXTENSION.get(ext, (ext,)):
        return name
    stem = path.stem if path.suffix else path.name
    return (stem.strip() or "documento")[:_NAME_LENGTH - len(ext)] + ext


# What a browser shows by itself, and so may be opened in it instead of downloaded (TIFF is not).
PREVIEWABLE = ("application/pdf", "image/jpeg", "image/png")


def previewable(content_type: str) -> bool:
    return content_type in PREVIEWABLE


def stored_type(path: Path) -> str | None:
    """The type the stored bytes themselves have (read again when a file is opened in the
    browser: a row that says PDF over bytes that are not is never served as a page)."""
    with open(path, "rb") as file:
        found = sniff(file.read(16))
    return found[0] if found else None


def download_name(original_name: str, content_type: str) -> str:
    """The name a stored document is served under: its extension follows its sniffed type."""
    ext = next((e for _magic, ctype, e in _SIGNATURES if ctype == content_type), None)
    return named_as(original_name, ext) if ext else original_name


def storage_path(storage_dir: str | Path, stored_name: str) -> Path:
    return Path(storage_dir) / stored_name[:2] / stored_name


@dataclass
class StoredFile:
    """A document written to disk under a generated name, its row not yet saved."""

    kind: str
    original_name: str
    stored_name: str
    content_type: str
    size: int
    sha256: str
    path: Path


def write_file(kind: str, original_name: str, data: bytes, storage_dir: str | Path) -> StoredFile:
    """Write the document under a generated name; on a full disk nothing of it stays (`StorageFull`)."""
    sniffed = sniff(data)
    if sniffed is None:
        raise ValueError("unsupported document format")
    content_type, ext = sniffed
    stored_name = uuid.uuid4().hex + ext
    path = storage_path(storage_dir, stored_name)
    try:
        try:
            path.write_bytes(data)
        except FileNotFoundError:  # the first file of its folder (folders are made when needed, not checked each time)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    except OSError as exc:
        path.unlink(missing_ok=True)  # what was written before the error
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        log.error("storage full: document %s (%s, %d bytes) not written to %s, partial file removed",
                  stored_name, kind, len(data), storage_dir)
        raise StorageFull(_l("Spazio di archiviazione dei documenti esaurito sul portale: il documento "
                             "«%(name)s» non è stato salvato.", name=original_name)) from exc
    return StoredFile(kind, named_as(original_name, ext), stored_name, content_type, len(data),
                      hashlib.sha256(data).hexdigest(), path)


def discard_unsaved(files: list[StoredFile], failure: BaseException) -> None:
    """Remove the files of a failed save, but never one whose row may exist.

    A database error can come after the COMMIT reached the server (the connection lost
    while it answered): the rows may be saved. Then they are looked up, on a fresh
    connection if the old one is gone, and only files without a row are removed; if the
    database cannot say, every file is kept and named in the log.
    """
    if not files:
        return
    kept = set()
    if isinstance(failure, pw.PeeweeException) and not isinstance(failure, pw.IntegrityError) \
            and not db.in_transaction():
        kept = _names_with_rows([f.stored_name for f in files], failure)
        if kept is None:
            log.error("database unreachable after a failed save: files kept, their rows may exist: %s",
                      ", ".join(f.stored_name for f in files))
            return
        if kept:
            log.warning("the save failed after its COMMIT: %d document(s) saved, files kept (%s)",
                        len(kept), ", ".join(sorted(kept)))
    for f in files:
        if f.stored_name not in kept:
            f.path.unlink(missing_ok=True)


def _names_with_rows(names: list[str], failure: BaseException) -> set[str] | None:
    try:
        if connection_lost(failure):
            db.reconnect()
        return {name for (name,) in Attachment.select(Attachment.stored_name)
                .where(Attachment.stored_name.in_(names)).tuples()}
    except pw.PeeweeException as exc:
        log.warning("cannot tell whether documents were saved: %s", exc)
        return None


def add_rows(claim: Claim, files: list[StoredFile], *, source: str = "web", actor: User | None = None,
             new_claim: bool = False) -> int:
    """The rows of written files, each the next version of its type, in one INSERT.

    `new_claim`: the claim was created in this transaction, so it has no documents yet.
    """
    if not files:
        return 0
    last = {} if new_claim else dict(
        Attachment.select(Attachment.kind, pw.fn.MAX(Attachment.version))
        .where(Attachment.claim == claim, Attachment.kind.in_({f.kind for f in files}))
        .group_by(Attachment.kind).tuples())
    rows, now = [], utcnow()
    for f in files:
        last[f.kind] = last.get(f.kind, 0) + 1
        rows.append((claim.id, f.kind, f.original_name, f.stored_name, f.content_type, f.size, f.sha256,
                     last[f.kind], source, now, actor, now))
    insert_rows(Attachment, [Attachment.claim, Attachment.kind, Attachment.original_name, Attachment.stored_name,
                             Attachment.content_type, Attachment.size, Attachment.sha256, Attachment.version,
                             Attachment.source, Attachment.uploaded_at, Attachment.uploaded_by,
                             Attachment.created_at], rows)
    log.info("claim %s: %d documents stored (%s)", claim.number, len(files), ", ".join(f.kind for f in files))
    return len(files)


def store_attachment(claim: Claim, kind: str, original_name: str, data: bytes, *,
                     storage_dir: str | Path, source: str = "web", actor: User | None = None) -> Attachment:
    """Write the file under a generated name and add its row as the next version of `kind`.

    The caller's transaction covers the row; the file is written first and removed
    again if the row cannot be saved, so neither outlives the other.
    """
    stored = write_file(kind, original_name, data, storage_dir)
    try:
        add_rows(claim, [stored], source=source, actor=actor)
    except Exception as exc:
        discard_unsaved([stored], exc)
        raise
    return Attachment.get(Attachment.stored_name == stored.stored_name)


def add_document(claim: Claim, kind: str, original_name: str, data: bytes, *, storage_dir: str | Path,
                 source: str = "web", actor: User | None = None) -> Attachment:
    """Store a document; if it completes an incomplete claim, the claim goes back to validation."""
    from . import engine
    attachment = store_attachment(claim, kind, original_name, data, storage_dir=storage_dir,
                                  source=source, actor=actor)
    engine.complete_if_ready(Claim.get_by_id(claim.id), actor)
    return attachment
