"""The dossier (fascicolo): one PDF of a claim's whole file, asked for on the claim page and
built in the worker (`tasks/dossier.py`), never in a web request.

One row per claim (`ClaimDossier`). A request names the documents to bind (by default the
latest version of each type, and every photo and "altro"); they are bound in the stated
order of types (`ORDER`), after a cover. The selection's fingerprint (each document's id
and sha256) decides whether anything is to do: the same fingerprint finds the dossier as
it is (ready, or under way), a new one queues a rebuild in place; the previous files are
removed once the new ones are stored. With no claim letter among the documents, the
worker writes one from the claim's data (`workflows.claim_letter`) and binds it in its
place; its inputs then count in the fingerprint too.

Who may: those who prepare the claim letter (`claim_letter.may_prepare`); someone who
cannot see the claim cannot learn that its dossier exists (`visible_dossiers`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import tempfile
import uuid
from pathlib import Path

import peewee as pw
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from models import Attachment, AttachmentKind, Claim, ClaimDossier, DossierState, User, db, utcnow

from . import access, claim_letter, dossier_build, dossier_pages
from .attachments import storage_path
from .errors import InvalidData, NotAllowed

log = logging.getLogger("gessin.workflows")

ORDER = ("denuncia", "richiesta_danni", "mandato", "cessione_credito", "documento_identita", "preventivo",
         "fattura", "perizia", "certificato_medico", "foto", "altro")
EVERY_VERSION = ("foto", "altro")  # each version is another photo or paper, not a replacement
STALE_AFTER = dt.timedelta(minutes=15)  # a build "under way" this long ago lost its worker


class Superseded(Exception):
    """The dossier was asked for again with other documents while this build ran."""


def visible_dossiers(user: User) -> pw.ModelSelect:
    return ClaimDossier.select().join(Claim).where(access.claim_scope(user))


def order_key(doc: Attachment) -> tuple:
    return ORDER.index(doc.kind) if doc.kind in ORDER else len(ORDER), doc.version, doc.id


def default_selection(claim: Claim) -> list[Attachment]:
    docs = list(claim.attachments)
    latest = {}
    for doc in docs:
        if doc.kind not in EVERY_VERSION and doc.version > latest.get(doc.kind, 0):
            latest[doc.kind] = doc.version
    return sorted((d for d in docs if d.kind in EVERY_VERSION or d.version == latest[d.kind]), key=order_key)


def selection_of(claim: Claim, ids=None) -> list[Attachment]:
    """The claim's documents among `ids` (anything else named is ignored), in binding order."""
    if ids is None:
        return default_selection(claim)
    wanted = {int(i) for i in ids if str(i).isdigit()}
    return sorted((d for d in claim.attachments if d.id in wanted), key=order_key)


def fingerprint(claim: Claim, docs: list[Attachment]) -> str:
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(f"{doc.id}:{doc.sha256}\n".encode())
    if not any(d.kind == claim_letter.KIND for d in docs):  # the worker writes the letter from the claim
        digest.update(f"letter:{claim.updated_at.isoformat()}:{claim.version}".encode())
    to = claim_letter.addressee(claim)  # the print's envelope: a new address is a new print
    digest.update(f"envelope:{to.name}:{'|'.join(to.lines)}".encode())
    return digest.hexdigest()


def current(claim: Claim) -> ClaimDossier | None:
    return ClaimDossier.get_or_none(ClaimDossier.claim == claim)


def request(claim: Claim, user: User, ids=None) -> tuple[ClaimDossier, bool]:
    """Ask for the dossier of `claim` with the documents `ids` (None: the default selection).

    Returns the row and whether a build must be queued (False: the dossier is already
    ready, or being built, from the same documents). Queue the task after the commit.
    """
    if not claim_letter.may_prepare(user, claim):
        raise NotAllowed(_l("Solo il Centro ASP della pratica, il suo legale o il call center preparano il fascicolo."))
    docs = selection_of(claim, ids)
    if ids is not None and not docs:
        raise InvalidData(_l("Scegli almeno un documento da mettere nel fascicolo."), "attachments")
    values = dict(state=DossierState.QUEUED, fingerprint=fingerprint(claim, docs),
                  selection=json.dumps([d.id for d in docs]), progress=0, total=2 * len(docs) + 2,
                  error=None, requested_by=user, requested_at=utcnow(), started_at=None, finished_at=None)
    try:
        row, changed = _record(claim, values)
    except pw.IntegrityError:  # another request created the claim's row meanwhile: update that one
        row, changed = _record(claim, values)
    if not changed:
        return row, False
    log.info("claim %s: dossier of %d documents asked for by %s", claim.number, len(docs), user.login)
    return row, True


def _record(claim: Claim, values: dict) -> tuple[ClaimDossier, bool]:
    with db.atomic():
        row = current(claim)
        if row is not None and row.fingerprint == values["fingerprint"] and row.state != DossierState.FAILED:
            return row, False
        if row is None:
            return ClaimDossier.create(claim=claim, **values), True
        ClaimDossier.update(**values).where(ClaimDossier.id == row.id).execute()
        return ClaimDossier.get_by_id(row.id), True


def take(dossier_id: int) -> ClaimDossier | None:
    """The worker takes a queued build (or one whose worker vanished); None when there is none to do."""
    now = utcnow()
    taken = (ClaimDossier.update(state=DossierState.BUILDING, started_at=now, progress=0)
             .where(ClaimDossier.id == dossier_id,
                    (ClaimDossier.state == DossierState.QUEUED)
                    | ((ClaimDossier.state == DossierState.BUILDING) & (ClaimDossier.started_at < now - STALE_AFTER)))
             .execute())
    return ClaimDossier.get_by_id(dossier_id) if taken else None


def under_way(now: dt.datetime | None = None) -> list[tuple[int, float]]:
    """Dossiers a worker should be building, each with the seconds until it may be taken:
    0 for a queued one, the rest of `STALE_AFTER` for one a worker started (it may still be
    at work, or gone with a stopped consumer)."""
    now = now or utcnow()
    rows = ClaimDossier.select(ClaimDossier.id, ClaimDossier.state, ClaimDossier.started_at).where(
        ClaimDossier.state.in_(DossierState.UNDER_WAY))
    return [(row.id, 0.0 if row.state == DossierState.QUEUED or row.started_at is None
             else max(0.0, (row.started_at + STALE_AFTER - now).total_seconds()) + 1) for row in rows]


def _progress(row: ClaimDossier, done: int) -> None:
    updated = (ClaimDossier.update(progress=done)
               .where(ClaimDossier.id == row.id, ClaimDossier.fingerprint == row.fingerprint).execute())
    if not updated:
        raise Superseded()


def build(dossier_id: int, storage_dir: str | Path, today: dt.date | None = None) -> ClaimDossier | None:
    """Build the dossier in a scratch folder and store its two files (the print for a raccomandata only
    with the claims office's postal address, `dossier_pages.envelope_refusal`); returns the row, or None if
    there was nothing to do. A document that cannot be bound is left out, named on the cover."""
    row = take(dossier_id)
    if row is None:
        return None
    claim = Claim.get_by_id(row.claim_id)
    ids = json.loads(row.selection)
    docs = sorted(Attachment.select().where(Attachment.claim == claim, Attachment.id.in_(ids or [0])), key=order_key)
    with tempfile.TemporaryDirectory(prefix="gessin-dossier-") as scratch:
        work = Path(scratch)
        sources = _sources(claim, docs, storage_dir, work, today)
        row.total = 2 * len(sources)
        ClaimDossier.update(total=row.total).where(ClaimDossier.id == row.id).execute()
        try:
            bound = dossier_build.bind(
                sources, lambda parts, left_out, total: dossier_pages.cover(
                    claim, parts, left_out, total, work / "cover.pdf", today),
                work, work / "dossier.pdf", progress=lambda done: _progress(row, done))
            printable = dossier_pages.envelope_refusal(claim) is None  # no print without the postal address
            if printable:
                dossier_pages.envelope(claim, bound.pages, work / "envelope.pdf", today)
                # from the numbered parts again, not the dossier read whole: one part in memory at a time
                dossier_build.concatenate([work / "envelope.pdf", *bound.stamped], work / "print.pdf")
        except Superseded:
            log.info("claim %s: dossier asked for again meanwhile, this build stops", claim.number)
            return None
        names = (uuid.uuid4().hex + ".pdf", uuid.uuid4().hex + ".pdf" if printable else None)
        for source, name in zip((bound.path, work / "print.pdf"), names):
            if name:
                dossier_build.copy_into(source, storage_path(storage_dir, name))
    old = (row.stored_name, row.print_stored_name)
    finished = (ClaimDossier.update(state=DossierState.READY, stored_name=names[0], print_stored_name=names[1],
                                    pages=bound.pages, size=bound.size, sha256=bound.sha256, finished_at=utcnow(),
                                    progress=row.total, left_out=json.dumps([x.as_dict() for x in bound.left_out]))
                .where(ClaimDossier.id == row.id, ClaimDossier.fingerprint == row.fingerprint).execute())
    for name in (names if not finished else old):
        if name:
            storage_path(storage_dir, name).unlink(missing_ok=True)
    if not finished:
        return None
    log.info("claim %s: dossier built, %d pages, %d bytes, %d document(s) left out", claim.number, bound.pages,
             bound.size, len(bound.left_out))
    return ClaimDossier.get_by_id(row.id)


def _sources(claim: Claim, docs: list[Attachment], storage_dir, work: Path, today) -> list[dossier_build.Source]:
    with force_locale("it"):
        sources = [dossier_build.Source(str(d.id), d.kind, str(AttachmentKind.LABELS.get(d.kind, d.kind)),
                                        d.original_name, d.content_type, d.sha256,
                                        storage_path(storage_dir, d.stored_name)) for d in docs]
    if not any(d.kind == claim_letter.KIND for d in docs):
        path = work / "letter.pdf"
        path.write_bytes(claim_letter.letter_pdf(claim, today=today))
        letter = dossier_build.Source("letter", claim_letter.KIND, "Richiesta danni (generata per il fascicolo)",
                                      claim_letter.file_name(claim), "application/pdf",
                                      hashlib.sha256(path.read_bytes()).hexdigest(), path)
        sources.insert(sum(1 for s in sources if s.kind == "denuncia"), letter)
    return sources


def print_refusal(row: ClaimDossier) -> str | None:
    """Why the ready dossier's print for a raccomandata is refused (None: it is not): the claims
    office's postal address is missing now, or was when the dossier was built."""
    refusal = dossier_pages.envelope_refusal(row.claim)
    if refusal is None and not row.print_stored_name:
        refusal = dossier_pages.REBUILD
    return None if refusal is None else str(refusal)


def fail(dossier_id: int, error: str) -> None:
    ClaimDossier.update(state=DossierState.FAILED, error=error[:2000], finished_at=utcnow()).where(
        ClaimDossier.id == dossier_id, ClaimDossier.state == DossierState.BUILDING).execute()


def left_out(row: ClaimDossier) -> list[dict]:
    return json.loads(row.left_out) if row.left_out else []


def status(row: ClaimDossier | None) -> dict:
    """What the claim page shows and polls: the state, the progress, and what was left out."""
    if row is None:
        return {"state": None}
    return {"state": row.state, "label": str(row.state_label), "progress": row.progress, "total": row.total,
            "percent": int(100 * row.progress / row.total) if row.total else 0, "pages": row.pages, "size": row.size,
            "left_out": left_out(row), "error": row.error}
