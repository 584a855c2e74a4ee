"""The events that record what the legal terms need (preparers of `workflows.engine`).

The insurer's request for missing items and the day they were sent, the claimant's
answer to the offer, each interruption of prescription: each is one event of the
transition table, so it has its history row and its e-mails, and the claim keeps the
dates (indexed) that `workflows.deadlines` reads, typed once.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from models import Claim, PrescriptionInterruption

from . import deadlines, next_due
from .change import Change
from .errors import FieldErrors, InvalidData
from .event_data import date, text

PROCEDURE_WORDS = {deadlines.DIRECT: "indennizzo diretto", deadlines.ORDINARY: "procedura ordinaria"}
ANSWER_WORDS = {"accepted": "accettata", "refused": "rifiutata"}
MEANS_WORDS = {"pec": "PEC", "raccomandata": "raccomandata A/R"}


def procedure(claim: Claim, value) -> str:
    """The procedure chosen on filing; none chosen: the portal's verdict on direct compensation."""
    value = text(value) or next_due.procedure_of(claim)
    if value not in deadlines.PROCEDURES:
        raise InvalidData(_l("Scegli la procedura dall'elenco."), "procedure")
    return value


def _not_before(errors: FieldErrors, day, earliest, name: str, message) -> None:
    if day is not None and earliest is not None and day < earliest:
        errors.add(name, message)


def _offer_words(after) -> str:
    term = next((t for t in next_due.legal_terms(after) if t.kind == deadlines.OFFER), None)
    if term is None:
        return "L'offerta è già arrivata"
    return f"Offerta dovuta entro il {term.due:%d/%m/%Y}" if term.due else "Offerta senza scadenza per ora"


def request_missing(claim, user, requested_on=None, items=None, note=None):
    errors = FieldErrors()
    day = errors.check(date, requested_on, "requested_on", _l("Richiesta della compagnia del"))
    _not_before(errors, day, claim.claim_filed_on, "requested_on",
                _l("La richiesta di integrazione non può precedere la richiesta danni."))
    if not text(items):
        errors.add("items", _l("Indica che cosa chiede la compagnia."))
    errors.raise_if_any()
    how = next_due.procedure_of(claim)
    effect = (f"Con la {PROCEDURE_WORDS[how]} il termine per l'offerta è sospeso fino all'invio."
              if how == deadlines.DIRECT else
              f"Con la {PROCEDURE_WORDS[how]} il termine per l'offerta ricomincerà da capo dall'invio.")
    if claim.claim_filed_on and (day - claim.claim_filed_on).days > deadlines.REQUEST_WITHIN:
        effect = f"Chiesta oltre i {deadlines.REQUEST_WITHIN} giorni: il termine per l'offerta non si sposta."
    return Change(updates={"missing_requested_on": day, "missing_requested_items": text(items)},
                  note=f"La compagnia ha chiesto il {day:%d/%m/%Y} un'integrazione: {text(items)}. {effect}"
                  + (f" {text(note)}" if text(note) else ""))


def send_missing(claim, user, sent_on=None, note=None):
    errors = FieldErrors()
    day = errors.check(date, sent_on, "sent_on", _l("Integrazione inviata il"))
    _not_before(errors, day, claim.missing_requested_on, "sent_on",
                _l("L'integrazione non può essere inviata prima che la compagnia la chieda."))
    errors.raise_if_any()
    offer = _offer_words(next_due.Projected(claim, {"missing_sent_on": day}))
    return Change(updates={"missing_sent_on": day},
                  note=f"Integrazione inviata alla compagnia il {day:%d/%m/%Y}. {offer}."
                  + (f" {text(note)}" if text(note) else ""))


def answer_offer(claim, user, answer=None, answered_on=None, note=None):
    errors = FieldErrors()
    if answer not in ANSWER_WORDS:
        errors.add("answer", _l("Indica se l'offerta è stata accettata o rifiutata."))
    day = errors.check(date, answered_on, "answered_on", _l("Risposta del"))
    _not_before(errors, day, claim.offer_received_on, "answered_on",
                _l("La risposta non può precedere l'offerta."))
    errors.raise_if_any()
    due = deadlines.payment_due(day).due
    return Change(updates={"offer_answer": answer, "offer_answered_on": day},
                  note=f"Offerta {ANSWER_WORDS[answer]} il {day:%d/%m/%Y}: la compagnia paga entro il "
                  f"{due:%d/%m/%Y}." + (f" {text(note)}" if text(note) else ""))


def interrupt_prescription(claim, user, interrupted_on=None, means=None, note=None):
    errors = FieldErrors()
    day = errors.check(date, interrupted_on, "interrupted_on", _l("Data della lettera"))
    if means not in MEANS_WORDS:
        errors.add("means", _l("Indica se la lettera è una PEC o una raccomandata A/R."))
    _not_before(errors, day, claim.accident_date, "interrupted_on",
                _l("La lettera non può precedere la data del sinistro."))
    errors.raise_if_any()
    last = claim.prescription_interrupted_on
    if claim.accident_date:
        current = deadlines.prescription(claim.accident_date, interruptions=(last,) if last else ()).due
        if day > current:
            raise InvalidData(_l("Il diritto risulta prescritto dal %(day)s: una lettera successiva non "
                                 "interrompe la prescrizione.", day=f"{current:%d/%m/%Y}"), "interrupted_on")
    latest = max(day, last) if last else day

    def write(saved_claim):
        PrescriptionInterruption.create(claim=saved_claim, on_date=day, means=means, note=text(note),
                                        recorded_by=user)
    tail = ""
    if claim.accident_date:
        tail = f" Prescrizione al {deadlines.prescription(claim.accident_date, interruptions=(latest,)).due:%d/%m/%Y}."
    return Change(updates={"prescription_interrupted_on": latest}, after=write,
                  note=f"Prescrizione interrotta il {day:%d/%m/%Y} con {MEANS_WORDS[means]}.{tail}"
                  + (f" {text(note)}" if text(note) else ""))
