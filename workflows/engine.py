"""Applying an event of the transition table to a claim.

`can` answers the UI (which buttons to show); `apply` checks role, state, scope and
data, then changes the claim only if it is still in the state and version it was
read in, writes one history row and the e-mails in the same transaction, and hands
the e-mails to the sender after the commit.
"""
from __future__ import annotations

import json
import logging
from decimal import Decimal

import peewee as pw
from flask_babel import lazy_gettext as _l

from models import (
    Claim,
    ClaimStatus,
    InsuranceCompany,
    Lawyer,
    LawyerCentre,
    Payment,
    StatusChange,
    User,
    db,
    parse_id,
    utcnow,
)

from . import access, amounts, checklist, clock, deadline_store, next_due, notify, term_events, transfer, who_pays
from .change import Change
from .event_data import date as _date
from .event_data import flag as _flag
from .event_data import text as _text
from .errors import Conflict, FieldErrors, InvalidData, NotAllowed
from .parties import ensure_own_desk
from .transitions import CANCELLED_REASON, OUTCOME_REASONS, TRANSITIONS, Transition

log = logging.getLogger("gessin.workflows")


def in_scope(claim: Claim, user: User) -> bool:
    return access.sees(user, claim)


def can(event: str, claim: Claim, user: User | None) -> bool:
    """May `user` apply `event` to `claim` now? (Its data is checked only by `apply`.)"""
    t = TRANSITIONS.get(event)
    return bool(t and user is not None and user.is_active and user.role in t.roles
                and claim.status in t.sources and (t.applies is None or t.applies(claim)) and in_scope(claim, user)
                and (t.allowed is None or t.allowed(claim, user)))


def available(claim: Claim, user: User) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if can(t.event, claim, user)]


def apply(event: str, claim: Claim, user: User, *, version: int | None = None, announce: bool = True,
          **data) -> Claim:
    """Apply `event` to `claim` as `user`; returns the claim as saved.

    `version` is the version the user saw (the claim page sends it): if the claim
    has changed since, nothing is written and `Conflict` is raised. With `announce`
    False the parties get no e-mail of this event (the caller's own tells them).
    """
    t = TRANSITIONS.get(event)
    if t is None:
        raise NotAllowed(_l("Azione sconosciuta: %(event)s", event=event))
    check_allowed(t, claim, user)
    read_version = claim.version if version is None else _version(version)
    if read_version != claim.version:
        raise Conflict(conflict_message(claim))
    change = PREPARE[event](claim, user, **data)
    saved = _commit(t, claim, user, change, read_version, announce=announce)
    notify.flush()
    return saved


def complete_if_ready(claim: Claim, actor: User | None = None, announce: bool = True) -> Claim:
    """Put an incomplete claim back in the validation queue once nothing is missing.

    Run after a document arrives (an upload, a WinCar seguito): no one has to press
    a button, so no role is checked; the history names who sent the document. With
    `announce` False the caller's own e-mail says it (a seguito tells the parties once).
    """
    if claim.status != ClaimStatus.INCOMPLETE or checklist.missing_items(claim):
        return claim
    t = TRANSITIONS["complete"]
    change = Change(updates={"missing_items": None, "missing_note": None, "complete_since": clock.today()},
                    note="Documentazione completata: la pratica torna in validazione.")
    try:
        saved = _commit(t, claim, actor, change, claim.version, announce=announce)
    except Conflict:
        return Claim.get_by_id(claim.id)  # someone acted on it meanwhile: their change stands
    notify.flush()
    return saved


def check_allowed(t: Transition, claim: Claim, user: User) -> None:
    if user is None or not user.is_active or user.role not in t.roles or not in_scope(claim, user):
        raise NotAllowed(_l("Non sei autorizzato a eseguire «%(action)s» sulla pratica %(number)s.",
                            action=t.label, number=claim.number))
    if claim.status not in t.sources:
        raise NotAllowed(_l("«%(action)s» non è possibile su una pratica nello stato «%(status)s».",
                            action=t.label, status=ClaimStatus.LABELS[claim.status]))
    if t.allowed is not None and not t.allowed(claim, user):
        raise NotAllowed(_l("«%(action)s» sulla pratica %(number)s spetta al call center o al centro che l'ha "
                            "inserita.", action=t.label, number=claim.number))
    if t.applies is not None and not t.applies(claim):
        raise NotAllowed(_l("«%(action)s» non serve ora sulla pratica %(number)s: è già registrata o manca il "
                            "passo che la precede.", action=t.label, number=claim.number))


def conflict_message(claim: Claim):
    return _l("La pratica %(number)s è stata modificata da un altro utente nel frattempo: ricarica la pagina.",
              number=claim.number)


def _commit(t: Transition, claim: Claim, user: User, change: Change, read_version: int,
            announce: bool = True) -> Claim:
    now = utcnow()
    source, target = claim.status, change.target or t.target or claim.status
    values = {Claim.status: target, Claim.version: Claim.version + 1, Claim.updated_at: now}
    if target != source:
        values[Claim.status_since] = now
    values.update({getattr(Claim, name): value for name, value in change.updates.items()})
    after = {**change.updates, "status": target, "status_since": now if target != source else claim.status_since}
    # The state's queue limit is read before the transaction opens: on SQLite a read first
    # would make the UPDATE upgrade a read lock, which a concurrent writer refuses at once.
    deadline = next_due.columns_after(claim, after, change.facts)
    values.update(next_due.claim_columns(deadline))
    with db.atomic():
        updated = (Claim.update(values)
                   .where(Claim.id == claim.id, Claim.status == source, Claim.version == read_version)
                   .execute())
        if updated != 1:
            raise Conflict(conflict_message(claim))
        deadline_store.schedule_after(claim.id, deadline)
        StatusChange.create(claim=claim, at=now, actor=user, actor_label=str(user) if user else "Gessin", event=t.event,
                            from_status=source, to_status=target, note=change.note)
        if change.after:
            change.after(claim)
        saved = Claim.get_by_id(claim.id)
        if announce:
            notify.queue(saved, notify.recipients(saved), "status_change", event=t.event, event_label=str(t.label),
                         old_status=source, new_status=target, note=change.note,
                         actor=str(user) if user else "Gessin",
                         missing=[checklist.describe(code) for code in checklist.recorded_missing(saved)]
                         if target == ClaimStatus.INCOMPLETE else [])
    log.info("claim %s: %s by %s (%s -> %s)", claim.number, t.event, user.login if user else "system", source, target)
    return saved


# ---- reading the data that comes with an event ------------------------------------

def _version(value) -> int:
    """The claim version a form sent back: a number, else the form is not one of ours."""
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidData(_l("Il modulo non indica la versione della pratica: ricarica la pagina e riprova."),
                          "version")


def _amount(value) -> Decimal:
    """An amount typed the Italian way ("1.500,00") or a number, that the payment column can hold."""
    return amounts.parse_amount(value, Payment.amount)


def _lawyer_for(claim: Claim, lawyer) -> Lawyer:
    lawyer_id = parse_id(getattr(lawyer, "id", lawyer))
    chosen = Lawyer.get_or_none(Lawyer.id == lawyer_id) if lawyer_id else None
    if chosen is None:
        raise InvalidData(_l("Scegli il legale a cui affidare la pratica."), "lawyer")
    works_here = (chosen.own_centre_id == claim.asp_centre_id or LawyerCentre.select().where(
        LawyerCentre.lawyer == chosen, LawyerCentre.asp_centre == claim.asp_centre_id).exists())
    if not chosen.active or not works_here:
        raise InvalidData(_l("%(lawyer)s non lavora per il centro %(centre)s.",
                             lawyer=chosen.name, centre=claim.asp_centre.name), "lawyer")
    return chosen


def _reason(reason, note) -> tuple[str, str | None]:
    errors = FieldErrors()
    if reason not in OUTCOME_REASONS:
        errors.add("reason", _l("Scegli il motivo dall'elenco."))
    if reason == "other" and not _text(note):
        errors.add("note", _l("Con il motivo «Altro» scrivi una nota."))
    errors.raise_if_any()
    return reason, _text(note)


# ---- one preparer per event ----------------------------------------------------------

def _validate(claim, user, note=None):
    missing = checklist.missing_items(claim)
    if missing:
        raise InvalidData(_l("La pratica non è completa: mancano %(items)s.",
                             items="; ".join(checklist.describe(code) for code in missing)), "missing")
    return Change(updates={"missing_items": None, "missing_note": None,
                           "complete_since": claim.complete_since or clock.today()}, note=_text(note))


def _mark_incomplete(claim, user, missing=(), note=None):
    known = dict(checklist.all_items())
    codes = [code for code in dict.fromkeys(missing or ()) if code]
    if not codes:
        raise InvalidData(_l("Indica almeno un documento o dato mancante."), "missing")
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidData(_l("Elemento mancante sconosciuto: %(code)s", code=", ".join(unknown)), "missing")
    words = "; ".join(known[code] for code in codes)
    note = _text(note)
    return Change(updates={"missing_items": json.dumps(codes), "missing_note": note, "complete_since": None},
                  note=f"Mancano: {words}." + (f" {note}" if note else ""))


def _complete(claim, user, note=None):
    change = _validate(claim, user, note)
    change.note = _text(note) or "Documentazione completata: la pratica torna in validazione."
    return change


def _assign(claim, user, lawyer=None, note=None):
    chosen = _lawyer_for(claim, lawyer)
    return Change(updates={"lawyer": chosen.id}, note=_text(note) or f"Affidata a {chosen.name}.")


def _self_assign(claim, user, note=None):
    desk = ensure_own_desk(claim.asp_centre)
    return Change(updates={"lawyer": desk.id}, note=_text(note) or f"Auto-affidata a {desk.name}.")


def _reassign(claim, user, lawyer=None, note=None):
    chosen = ensure_own_desk(claim.asp_centre) if lawyer == "self" else _lawyer_for(claim, lawyer)
    if chosen.id == claim.lawyer_id:
        raise InvalidData(_l("La pratica è già affidata a %(lawyer)s.", lawyer=chosen.name), "lawyer")
    return Change(updates={"lawyer": chosen.id}, note=_text(note) or f"Nuovo affidamento a {chosen.name}.")


def _file_claim(claim, user, filed_on=None, signed_by_both=None, personal_injury=None, procedure=None, note=None):
    """The day the claim letter reached the insurer: the offer term runs from it, and it is a
    written demand that interrupts prescription by itself (art. 2943 c.4 c.c.). The facts not
    given (the signatures, a claim for personal injury) are the claim's own."""
    errors = FieldErrors()
    filed = errors.check(_date, filed_on, "filed_on", _l("Data di ricezione della richiesta danni"))
    if filed and claim.accident_date and filed < claim.accident_date:
        errors.add("filed_on", _l("La richiesta danni non può precedere la data del sinistro."))
    chosen = errors.check(term_events.procedure, claim, procedure)
    errors.raise_if_any()
    signed = claim.signed_by_both if signed_by_both is None else _flag(signed_by_both)
    injury = claim.personal_injury if personal_injury is None else _flag(personal_injury)
    return Change(updates={"claim_filed_on": filed, "signed_by_both": signed, "personal_injury": injury,
                           "procedure": chosen, **who_pays.on_filing(claim, chosen)},  # the debtor follows it
                  note=_text(note) or f"Richiesta danni ricevuta dalla compagnia il {filed:%d/%m/%Y} "
                  f"({term_events.PROCEDURE_WORDS[chosen]}); interrompe la prescrizione.")


def _payer(claim, payer):
    if payer in (None, ""):
        return claim.insurer_id
    payer_id = parse_id(getattr(payer, "id", payer))
    insurer = InsuranceCompany.get_or_none(InsuranceCompany.id == payer_id) if payer_id else None
    if insurer is None:
        raise InvalidData(_l("Compagnia pagatrice sconosciuta."), "payer")
    return insurer.id


def _money_record(kind, claim, user, amount, on_date, payer, note, errors: FieldErrors | None = None):
    errors = errors or FieldErrors()  # every wrong field is told at once
    value = errors.check(_amount, amount)
    day = errors.check(_date, on_date, "on_date", _l("Data"))
    payer_id = errors.check(_payer, claim, payer)
    errors.raise_if_any()

    def write(saved_claim):
        Payment.create(claim=saved_claim, kind=kind, amount=value, on_date=day, payer=payer_id,
                       note=_text(note), recorded_by=user)
    return value, day, write


def _record_offer(claim, user, amount=None, on_date=None, payer=None, note=None):
    value, day, write = _money_record("offer", claim, user, amount, on_date, payer, note)
    first = {"offer_received_on": day} if claim.offer_received_on is None or day < claim.offer_received_on else {}
    return Change(updates=first, after=write, note=f"Offerta di € {amounts.italian(value)} del {day:%d/%m/%Y}."
                  + (f" {_text(note)}" if _text(note) else ""))


def payment_warning(claim) -> str | None:
    """Art. 149-bis CdA: with the credit assigned, the insurer pays repair costs only against
    the repairer's invoice. A payment received without one on file is recorded, with this."""
    if checklist.has_document(claim, "cessione_credito") and not checklist.has_document(claim, "fattura"):
        return ("Attenzione: con la cessione del credito la compagnia paga le spese di riparazione contro la fattura "
                "di riparazione (art. 149-bis CdA), che non è in pratica: caricala.")
    return None


def _record_payment(claim, user, amount=None, on_date=None, payer=None, note=None, final=False):
    value, day, write = _money_record("reimbursement", claim, user, amount, on_date, payer, note)
    paid = (Payment.select(pw.fn.COALESCE(pw.fn.SUM(Payment.amount), 0))
            .where(Payment.claim == claim, Payment.kind == "reimbursement").scalar())
    total = Decimal(str(paid)) + value
    full = _flag(final) or (claim.claimed_amount is not None and total >= claim.claimed_amount)
    target = ClaimStatus.REIMBURSED if full else ClaimStatus.PARTIALLY_REIMBURSED
    updates = {"closed_at": utcnow(), "outcome_reason": "paid"} if full else {}
    if claim.first_paid_on is None or day < claim.first_paid_on:
        updates["first_paid_on"] = day  # a payment ends the offer term, offer or not (art. 148 CdA)
    warning = payment_warning(claim)
    return Change(target=target, updates=updates, after=write,
                  note=f"Rimborso di € {amounts.italian(value)} del {day:%d/%m/%Y} "
                  f"(totale rimborsato € {amounts.italian(total)})."
                  + (f" {_text(note)}" if _text(note) else "") + (f" {warning}" if warning else ""))


def _close(claim, user, reason=None, note=None):
    reason, note = _reason(reason, note)
    return Change(updates={"outcome_reason": reason, "outcome_note": note, "closed_at": utcnow()},
                  note=f"{OUTCOME_REASONS[reason]}." + (f" {note}" if note else ""))


def _reopen(claim, user, note=None):
    if not _text(note):
        raise InvalidData(_l("Indica il motivo della riapertura."), "note")
    closing = (StatusChange.select().where(StatusChange.claim == claim, StatusChange.to_status == claim.status)
               .order_by(StatusChange.id.desc()).first())
    previous = closing.from_status if closing and closing.from_status not in ClaimStatus.FINAL else None
    fallback = ClaimStatus.ASSIGNED if claim.lawyer_id else ClaimStatus.RECEIVED
    return Change(target=previous or fallback,
                  updates={"closed_at": None, "outcome_reason": None, "outcome_note": None},
                  note=f"Riaperta: {_text(note)}")


def _cancel(claim, user, note=None):
    if not _text(note):
        raise InvalidData(_l("Indica perché la pratica va annullata."), "note")
    return Change(updates={"outcome_reason": CANCELLED_REASON, "outcome_note": _text(note), "closed_at": utcnow()},
                  note=f"Annullata perché aperta per errore: {_text(note)}")


PREPARE = {
    "validate": _validate,
    "mark_incomplete": _mark_incomplete,
    "complete": _complete,
    "assign": _assign,
    "self_assign": _self_assign,
    "reassign": _reassign,
    "file_claim": _file_claim,
    "record_offer": _record_offer,
    "record_payment": _record_payment,
    "request_missing": term_events.request_missing,
    "send_missing": term_events.send_missing,
    "receive_missing": term_events.receive_missing,
    "refuse_offer": term_events.refuse_offer,
    "fraud_check": term_events.fraud_check,
    "answer_offer": term_events.answer_offer,
    "receive_answer": term_events.receive_answer,
    "suspend_offer_term": term_events.suspend_offer_term,
    "end_suspension": term_events.end_suspension,
    "interrupt_prescription": term_events.interrupt_prescription,
    "receive_demand": term_events.receive_demand,
    "longer_prescription": term_events.longer_prescription,
    "close": _close,
    "drop": _close,
    "reopen": _reopen,
    "cancel": _cancel,
    "transfer": transfer.prepare,
}
assert set(PREPARE) == set(TRANSITIONS), "every event of the table needs a preparer"
