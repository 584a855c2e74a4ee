"""The claim's lifecycle, declared once: every event, its source states, target and roles.

`TRANSITIONS` is the one table the engine (`workflows.engine`), the claim page's
buttons and the tests all read. A target of None means the event keeps the state
(an offer, a change of lawyer) or computes it (a payment, a reopening).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from models import ClaimStatus as S
from models import Role

CENTRE = (Role.ADMIN, Role.ASP_MANAGER)
RECOVERY = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER)
OPEN_STATES = (S.RECEIVED, S.INCOMPLETE, S.VALIDATED, S.ASSIGNED, S.FILED, S.PARTIALLY_REIMBURSED)
IN_RECOVERY = (S.ASSIGNED, S.FILED, S.PARTIALLY_REIMBURSED)


@dataclass(frozen=True)
class Transition:
    event: str
    label: object
    sources: tuple[str, ...]
    target: str | None
    roles: tuple[str, ...]
    needs: tuple[str, ...] = ()
    bulk: bool = False
    # What the claim's data must say for the event to make sense now (None: nothing),
    # e.g. an integration is sent only after the insurer asked for one.
    applies: Callable | None = None
    # What the user must be to this claim, beyond role and scope (None: nothing), e.g. a
    # centre cancels only a file its own staff opened by hand.
    allowed: Callable | None = None


TRANSITIONS: dict[str, Transition] = {t.event: t for t in (
    Transition("validate", _l("Valida"), (S.RECEIVED,), S.VALIDATED, CENTRE, bulk=True),
    Transition("mark_incomplete", _l("Segna incompleta"), (S.RECEIVED, S.VALIDATED), S.INCOMPLETE, CENTRE,
               needs=("missing",)),
    # Offered only once nothing is missing: before that the button could only fail.
    Transition("complete", _l("Rimetti in validazione"), (S.INCOMPLETE,), S.RECEIVED, CENTRE,
               applies=lambda claim: _nothing_missing(claim)),
    Transition("assign", _l("Affida a un legale"), (S.VALIDATED,), S.ASSIGNED, CENTRE, needs=("lawyer",), bulk=True),
    Transition("self_assign", _l("Auto-affida al centro"), (S.VALIDATED,), S.ASSIGNED, CENTRE, bulk=True),
    Transition("reassign", _l("Cambia legale"), IN_RECOVERY, None, CENTRE, needs=("lawyer",)),
    Transition("file_claim", _l("Registra invio richiesta danni"), (S.ASSIGNED,), S.FILED, RECOVERY,
               needs=("filed_on", "procedure", "signed_by_both", "personal_injury")),
    Transition("record_offer", _l("Registra offerta"), (S.FILED, S.PARTIALLY_REIMBURSED), None, RECOVERY,
               needs=("amount", "on_date")),
    Transition("record_payment", _l("Registra rimborso"), (S.FILED, S.PARTIALLY_REIMBURSED), None, RECOVERY,
               needs=("amount", "on_date")),
    # What the legal terms need (workflows/deadlines.py, workflows/term_events.py), recorded as the
    # insurer and the claimant act, each with the day it reached its addressee.
    Transition("request_missing", _l("Registra richiesta di integrazione"), (S.FILED,), None, RECOVERY,
               needs=("requested_on", "items"),
               applies=lambda c: c.missing_requested_on is None and _offer_pending(c)),
    Transition("send_missing", _l("Registra invio dell'integrazione"), (S.FILED,), None, RECOVERY,
               needs=("sent_on",), applies=lambda c: c.missing_requested_on is not None and c.missing_sent_on is None),
    Transition("receive_missing", _l("Registra ricezione dell'integrazione"), (S.FILED,), None, RECOVERY,
               needs=("received_on",),
               applies=lambda c: c.missing_sent_on is not None and c.missing_received_on is None),
    Transition("refuse_offer", _l("Registra diniego motivato"), (S.FILED,), None, RECOVERY,
               needs=("refused_on", "reason"), applies=lambda c: _offer_pending(c)),
    Transition("fraud_check", _l("Registra comunicazione antifrode"), (S.FILED,), None, RECOVERY,
               needs=("notified_on",), applies=lambda c: c.fraud_check_on is None and _offer_pending(c)),
    Transition("answer_offer", _l("Registra risposta all'offerta"), (S.FILED, S.PARTIALLY_REIMBURSED), None, RECOVERY,
               needs=("answer", "answered_on"),
               applies=lambda c: c.offer_received_on is not None and c.offer_answered_on is None),
    Transition("receive_answer", _l("Registra ricezione della risposta"), (S.FILED, S.PARTIALLY_REIMBURSED), None,
               RECOVERY, needs=("received_on",),
               applies=lambda c: c.offer_answered_on is not None and c.answer_received_on is None),
    Transition("suspend_offer_term", _l("Registra rifiuto di ispezione o visita medica"), (S.FILED,), None,
               RECOVERY, needs=("kind", "start_on"), applies=lambda c: _offer_pending(c) and not _suspended(c)),
    Transition("end_suspension", _l("Registra fine della sospensione"), (S.FILED,), None, RECOVERY,
               needs=("end_on",), applies=lambda c: _suspended(c)),
    Transition("interrupt_prescription", _l("Registra interruzione della prescrizione"), OPEN_STATES, None, RECOVERY,
               needs=("sent_on", "means")),
    Transition("receive_demand", _l("Registra ricevuta della richiesta"), OPEN_STATES, None, RECOVERY,
               needs=("demand", "received_on"), applies=lambda c: _demand_awaiting_receipt(c)),
    Transition("longer_prescription", _l("Prescrizione più lunga (fatto reato)"), OPEN_STATES, None, RECOVERY,
               needs=("years", "reason")),
    Transition("close", _l("Chiudi"), OPEN_STATES, S.CLOSED, RECOVERY, needs=("reason",)),
    Transition("drop", _l("Senza seguito"), OPEN_STATES, S.DROPPED, RECOVERY, needs=("reason",), bulk=True),
    Transition("reopen", _l("Riapri"), S.FINAL, None, (Role.ADMIN,), needs=("note",)),
    # A file opened by mistake, before it is entrusted: the call centre, or the centre that opened it.
    Transition("cancel", _l("Annulla la pratica"), (S.RECEIVED, S.INCOMPLETE, S.VALIDATED), S.CANCELLED, CENTRE,
               needs=("note",), allowed=lambda claim, user: _opened_by(claim, user)),
    # Who the file belongs to: the call centre moves it, with a reason (workflows/transfer.py).
    Transition("transfer", _l("Trasferisci pratica"), OPEN_STATES, None, (Role.ADMIN,),
               needs=("repairer", "asp_centre", "note")),
)}

def _offer_pending(claim) -> bool:
    from .next_due import offer_pending
    return claim.claim_filed_on is not None and offer_pending(claim)


def _suspended(claim) -> bool:
    from .term_events import open_suspension
    return open_suspension(claim) is not None


def _demand_awaiting_receipt(claim) -> bool:
    from .term_events import pending_demands
    return bool(pending_demands(claim))


def _nothing_missing(claim) -> bool:
    from .checklist import missing_items
    return not missing_items(claim)


def _opened_by(claim, user) -> bool:
    """The call centre; or a manager of the centre whose staff entered the claim by hand."""
    from .cancel import opened_by_centre_of
    return user.role == Role.ADMIN or opened_by_centre_of(claim, user)


# Who may act on many claims at once: the centres' managers and the call centre.
BULK_ROLES = CENTRE

OUTCOME_REASONS = {
    "settled": _l("Transatta"),
    "withdrawn": _l("Ritirata dal cliente"),
    "duplicate": _l("Pratica duplicata"),
    "liability_refused": _l("Responsabilità contestata"),
    "no_cover": _l("Assenza di copertura assicurativa"),
    "prescribed": _l("Diritto prescritto"),
    "other": _l("Altro (vedi nota)"),
}
CANCELLED_REASON = "opened_by_mistake"  # the outcome of a cancelled claim, never chosen from the list above
# Every outcome a finished claim may carry, in words (the claim page's "Esito").
OUTCOME_WORDS = {**OUTCOME_REASONS, "paid": _l("Rimborsata per intero"), CANCELLED_REASON: _l("Aperta per errore")}

# What the history calls each event: the table's, and those other modules write
# (workflows/claims.py opens, workflows/intake.py the WinCar seguito, workflows/insurers.py the mapping).
EVENT_LABELS = {event: t.label for event, t in TRANSITIONS.items()} | {
    "open": _l("Pratica ricevuta"),
    "seguito": _l("Seguito da WinCar"),
    "upload": _l("Documenti caricati"),
    "insurer_mapped": _l("Compagnia abbinata"),
    "reassessed": _l("Valutazione e compagnia debitrice aggiornate"),  # workflows/who_pays.py, on a form edit
    "claims_office": _l("Invio all'ufficio sinistri"),  # workflows/claims_office.py
    "claims_office_delivered": _l("Consegna all'ufficio sinistri"),  # workflows/claims_office_delivery.py
}


def event_label(event: str) -> str:
    """The Italian name of a history row's event (the code itself only for one no table knows)."""
    return str(EVENT_LABELS.get(event, event))
