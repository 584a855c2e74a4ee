"""When is a claim complete? The documents and data a validation needs.

The required document types are configurable (REQUIRED_DOCUMENTS in the app's
configuration, set at start-up with `configure`); each missing item is described
in words a repairer understands.
"""
from __future__ import annotations

import json
import logging

from flask_babel import lazy_gettext as _l

from models import Attachment, AttachmentKind, Claim

log = logging.getLogger("gessin.workflows")

DEFAULT_REQUIRED_DOCUMENTS = ("denuncia", "mandato", "cessione_credito", "richiesta_danni", "documento_identita")

# Data a claim needs besides documents: code -> (check, description for the repairer).
REQUIRED_DATA = {
    "accident_date": (lambda c: c.accident_date is not None, _l("la data del sinistro")),
    "plates": (lambda c: bool(c.vehicle_a_plate and c.vehicle_b_plate), _l("le targhe dei due veicoli")),
    "insurer": (lambda c: c.insurer_id is not None, _l("la compagnia debitrice")),
    "customer": (lambda c: bool(c.customer_name), _l("i dati del cliente")),
}

# The claim's fields those checks read: a list of claims needs no more to tell what each lacks.
DATA_FIELDS = (Claim.accident_date, Claim.vehicle_a_plate, Claim.vehicle_b_plate, Claim.insurer, Claim.customer_name)

DOCUMENT_WORDS = {
    "denuncia": _l("la denuncia di sinistro (Modulo Blu) firmata"),
    "mandato": _l("il mandato firmato dal cliente"),
    "cessione_credito": _l("la cessione del credito firmata dal cliente"),
    "richiesta_danni": _l("la lettera di richiesta danni"),
    "documento_identita": _l("il documento d'identità del cliente"),
    "preventivo": _l("il preventivo di riparazione"),
    "fattura": _l("la fattura di riparazione"),
    "foto": _l("le foto del veicolo"),
    "perizia": _l("la perizia"),
    "certificato_medico": _l("il certificato medico di guarigione"),
    "altro": _l("altri documenti"),
}

_required_documents: tuple[str, ...] = DEFAULT_REQUIRED_DOCUMENTS


def configure(required_documents) -> None:
    global _required_documents
    unknown = [kind for kind in required_documents if kind not in AttachmentKind.ALL]
    if unknown:
        raise ValueError(f"unknown document types in REQUIRED_DOCUMENTS: {unknown}")
    _required_documents = tuple(required_documents)


def required_documents() -> tuple[str, ...]:
    return _required_documents


def all_items() -> list[tuple[str, str]]:
    """Every item a clerk may tick as missing: (code, description)."""
    documents = [(f"doc:{kind}", str(DOCUMENT_WORDS[kind])) for kind in AttachmentKind.ALL]
    data = [(f"data:{code}", str(words)) for code, (_, words) in REQUIRED_DATA.items()]
    return data + documents


def describe(code: str) -> str:
    """What an item of `all_items` says, looked up by its code alone."""
    kind, _, name = code.partition(":")
    if kind == "doc" and name in DOCUMENT_WORDS:
        return str(DOCUMENT_WORDS[name])
    if kind == "data" and name in REQUIRED_DATA:
        return str(REQUIRED_DATA[name][1])
    return code


def missing_items(claim: Claim) -> list[str]:
    """Codes of what the claim still lacks, data first, then documents."""
    present = getattr(claim, "_present_kinds", None)  # set by a bulk action that read them all at once
    if present is None:
        present = {kind for (kind,) in Attachment.select(Attachment.kind)
                   .where(Attachment.claim == claim).distinct().tuples()}
    missing = [f"data:{code}" for code, (check, _) in REQUIRED_DATA.items() if not check(claim)]
    missing += [f"doc:{kind}" for kind in _required_documents if kind not in present]
    return missing


def has_document(claim: Claim, kind: str) -> bool:
    return Attachment.select().where(Attachment.claim == claim, Attachment.kind == kind).exists()


def recorded_missing(claim: Claim) -> list[str]:
    """The codes a clerk ticked when marking the claim incomplete (`missing_items`).

    The column is written only by the workflow, as a JSON list of codes; a value that
    is not one (an older import, a hand-made fix in the database) is read as far as it
    can be, never as an error on the claim's page.
    """
    raw = claim.missing_items
    if not raw:
        return []
    try:
        codes = json.loads(raw)
    except (TypeError, ValueError):
        log.warning("claim %s: missing_items is not JSON, read as nothing missing", claim.number)
        return []
    if isinstance(codes, str):
        codes = [codes]
    if not isinstance(codes, list):
        log.warning("claim %s: missing_items is not a list, read as nothing missing", claim.number)
        return []
    return [code for code in codes if isinstance(code, str) and code]
