"""The events that record what the legal terms need (preparers of `workflows.engine`).

What the insurer and the claimant do, each as the day it reached its addressee (DOMAIN.md,
"Deadlines"): the insurer's request for missing items, the day they were sent and the day
they reached it; its offer's answer, sent and received; its motivated refusal; its anti-fraud
communication; the claimant's refusal of the inspection or of the medical examination and
its end; every written demand that interrupts prescription, sent and received; a longer
prescription when the fact is also a crime. Each is one event of the transition table, so
it has its history row and its e-mails; the claim keeps the dates `workflows.deadlines`
reads, the demands and suspensions are rows (`workflows.term_facts`).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from models import Claim, PrescriptionInterruption, TermSuspension, parse_id

from . import deadlines, next_due, term_facts
from .change import Change
from .errors import FieldErrors, InvalidData
from .event_data import date, text

PROCEDURE_WORDS = {deadlines.DIRECT: "indennizzo diretto", deadlines.ORDINARY: "procedura ordinaria"}
ANSWER_WORDS = {"accepted": "accettata", "refused": "rifiutata"}
MEANS_WORDS = {"pec": "PEC", "raccomandata": "raccomandata A/R"}
LONGEST_PRESCRIPTION = 30  # years: the longest a crime's prescription runs (art. 157 c.p. aside from life terms)


def procedure(claim: Claim, value) -> str:
    """The procedure chosen on filing; none chosen: the portal's verdict on direct compensation."""
    value = text(value) or next_due.procedure_of(claim)
    if value not in deadlines.PROCEDURES:
        raise InvalidData(_l("Scegli la procedura dall'elenco."), "procedure")
    return value


def _not_before(errors: FieldErrors, day, earliest, name: str, message) -> None:
    if day is not None and earliest is not None and day < earliest:
        errors.add(name, message)


def _one_day(value, name: str, label, earliest, message):
    """The one date an event records, typed the Italian way and not before `earliest`."""
    errors = FieldErrors()
    day = errors.check(date, value, name, label)
    _not_before(errors, day, earliest, name, message)
    errors.raise_if_any()
    return day


def _with_note(words: str, note) -> str:
    return words + (f" {text(note)}" if text(note) else "")


def _term_words(claim, changes: dict, kind: str, facts: term_facts.TermFacts | None = None) -> str:
    """What a term says once `changes` apply: "Offerta dovuta entro il …", or why it has no date."""
    after = next_due.Projected(claim, changes)
    term = next((t for t in next_due.legal_terms(after, facts) if t.kind == kind), None)
    label = str(next_due.KIND_LABELS[kind])
    if term is None:
        return f"{label}: nessun termine in corso."
    if term.due is None:
        return f"{label}: nessuna data per ora ({term.basis})."
    return f"{label}: {term.due:%d/%m/%Y} ({term.basis})."


# ---- the insurer's request for missing items ----------------------------------------

def request_missing(claim, user, requested_on=None, items=None, note=None):
    errors = FieldErrors()
    day = errors.check(date, requested_on, "requested_on", _l("Richiesta della compagnia del"))
    _not_before(errors, day, claim.claim_filed_on, "requested_on",
                _l("La richiesta di integrazione non può precedere la richiesta danni."))
    if not text(items):
        errors.add("items", _l("Indica che cosa chiede la compagnia."))
    errors.raise_if_any()
    how = next_due.procedure_of(claim)
    effect = (f"Con l'{PROCEDURE_WORDS[how]} il termine per l'offerta è sospeso fino a quando l'integrazione arriva "
              "alla compagnia." if how == deadlines.DIRECT else
              f"Con la {PROCEDURE_WORDS[how]} il termine per l'offerta ricomincerà da capo dal giorno in cui "
              "l'integrazione arriva alla compagnia.")
    if claim.claim_filed_on and not deadlines.request_in_time(claim.claim_filed_on, day):
        window = deadlines.request_window(claim.claim_filed_on)[0]
        effect = (f"Chiesta oltre i {deadlines.REQUEST_WITHIN} giorni (ultimo giorno utile il {window:%d/%m/%Y}): "
                  "il termine per l'offerta non si sposta.")
    return Change(updates={"missing_requested_on": day, "missing_requested_items": text(items)},
                  note=_with_note(f"La compagnia ha chiesto il {day:%d/%m/%Y} un'integrazione: {text(items)}. "
                                  f"{effect}", note))


def send_missing(claim, user, sent_on=None, received_on=None, note=None):
    errors = FieldErrors()
    day = errors.check(date, sent_on, "sent_on", _l("Integrazione inviata il"))
    _not_before(errors, day, claim.missing_requested_on, "sent_on",
                _l("L'integrazione non può essere inviata prima che la compagnia la chieda."))
    received = _optional_receipt(errors, received_on, day, "received_on")
    errors.raise_if_any()
    updates = {"missing_sent_on": day, "missing_received_on": received}
    receipt = f" e ricevuta dalla compagnia il {received:%d/%m/%Y}" if received else ", in attesa di ricevuta"
    return Change(updates=updates, note=_with_note(
        f"Integrazione inviata alla compagnia il {day:%d/%m/%Y}{receipt}. "
        f"{_term_words(claim, updates, deadlines.OFFER)}", note))


def receive_missing(claim, user, received_on=None, note=None):
    day = _one_day(received_on, "received_on", _l("Integrazione ricevuta dalla compagnia il"), claim.missing_sent_on,
                   _l("La compagnia non può ricevere l'integrazione prima che sia inviata."))
    updates = {"missing_received_on": day}
    return Change(updates=updates, note=_with_note(
        f"Integrazione ricevuta dalla compagnia il {day:%d/%m/%Y}. "
        f"{_term_words(claim, updates, deadlines.OFFER)}", note))


def _optional_receipt(errors: FieldErrors, value, sent, name: str):
    """A day of receipt the user may not know yet (None), never before the day it was sent."""
    if text(value) is None:  # nothing typed (a date object is kept as it is)
        return None
    day = errors.check(date, value, name, _l("Ricevuta il"))
    _not_before(errors, day, sent, name, _l("La ricezione non può precedere l'invio."))
    return day


# ---- what the insurer answers ----------------------------------------------------------

def refuse_offer(claim, user, refused_on=None, reason=None, note=None):
    """The insurer's motivated refusal to make an offer: it meets the offer term (art. 148 c.1 CdA)."""
    errors = FieldErrors()
    day = errors.check(date, refused_on, "refused_on", _l("Diniego ricevuto il"))
    _not_before(errors, day, claim.claim_filed_on, "refused_on",
                _l("Il diniego non può precedere la richiesta danni."))
    if not text(reason):
        errors.add("reason", _l("Riporta i motivi indicati dalla compagnia."))
    errors.raise_if_any()
    return Change(updates={"offer_refused_on": day, "refusal_reason": text(reason)}, note=_with_note(
        f"La compagnia ha comunicato il {day:%d/%m/%Y} i motivi per cui non fa offerta: {text(reason)}. "
        "Il termine per l'offerta è rispettato (art. 148 c.1 CdA).", note))


def fraud_check(claim, user, notified_on=None, note=None):
    """The insurer's anti-fraud communication (art. 148 c.2-bis CdA)."""
    day = _one_day(notified_on, "notified_on", _l("Comunicazione ricevuta il"), claim.claim_filed_on,
                   _l("La comunicazione non può precedere la richiesta danni."))
    updates = {"fraud_check_on": day}
    return Change(updates=updates, note=_with_note(
        f"La compagnia ha comunicato il {day:%d/%m/%Y} un approfondimento antifrode (art. 148 c.2-bis CdA). "
        f"{_term_words(claim, updates, deadlines.OFFER)}", note))


def answer_offer(claim, user, answer=None, answered_on=None, received_on=None, note=None):
    errors = FieldErrors()
    if answer not in ANSWER_WORDS:
        errors.add("answer", _l("Indica se l'offerta è stata accettata o rifiutata."))
    day = errors.check(date, answered_on, "answered_on", _l("Risposta inviata il"))
    _not_before(errors, day, claim.offer_received_on, "answered_on",
                _l("La risposta non può precedere l'offerta."))
    received = _optional_receipt(errors, received_on, day, "received_on")
    errors.raise_if_any()
    updates = {"offer_answer": answer, "offer_answered_on": day, "answer_received_on": received}
    return Change(updates=updates, note=_with_note(
        f"Offerta {ANSWER_WORDS[answer]} con risposta inviata il {day:%d/%m/%Y}"
        + (f" e ricevuta dalla compagnia il {received:%d/%m/%Y}. " if received else ", in attesa di ricevuta. ")
        + _term_words(claim, updates, deadlines.PAYMENT), note))


def receive_answer(claim, user, received_on=None, note=None):
    day = _one_day(received_on, "received_on", _l("Risposta ricevuta dalla compagnia il"), claim.offer_answered_on,
                   _l("La ricezione non può precedere l'invio."))
    updates = {"answer_received_on": day}
    return Change(updates=updates, note=_with_note(
        f"Risposta all'offerta ricevuta dalla compagnia il {day:%d/%m/%Y}. "
        f"{_term_words(claim, updates, deadlines.PAYMENT)}", note))


# ---- the claimant's refusals (art. 148 c.3 CdA) ---------------------------------------

def suspend_offer_term(claim, user, kind=None, start_on=None, note=None):
    errors = FieldErrors()
    if kind not in term_facts.SUSPENSION_WHY:
        errors.add("kind", _l("Indica se il danneggiato ha rifiutato l'ispezione o l'accertamento medico."))
    day = errors.check(date, start_on, "start_on", _l("Rifiuto del"))
    _not_before(errors, day, claim.claim_filed_on, "start_on", _l("Il rifiuto non può precedere la richiesta danni."))
    errors.raise_if_any()
    facts = term_facts.of(claim.id)
    after = facts.with_suspensions(facts.suspensions + (deadlines.Suspension(day, None, term_facts.SUSPENSION_WHY[kind]),))

    def write(saved_claim):
        TermSuspension.create(claim=saved_claim, kind=kind, start_on=day, note=text(note), recorded_by=user)
    return Change(after=write, facts=after, note=_with_note(
        f"{dict(TermSuspension.KINDS)[kind]} il {day:%d/%m/%Y}: il termine per l'offerta è sospeso "
        "(art. 148 c.3 CdA).", note))


def open_suspension(claim) -> TermSuspension | None:
    return (TermSuspension.select().where(TermSuspension.claim == claim.id, TermSuspension.end_on.is_null())
            .order_by(TermSuspension.start_on).first())


def end_suspension(claim, user, end_on=None, note=None):
    row = open_suspension(claim)
    if row is None:
        raise InvalidData(_l("Il termine per l'offerta non è sospeso."), "end_on")
    day = _one_day(end_on, "end_on", _l("Sospensione finita il"), row.start_on,
                   _l("La sospensione non può finire prima di cominciare."))
    facts = term_facts.of(claim.id)
    after = facts.with_suspensions(
        s if (s.start, s.end) != (row.start_on, None) else deadlines.Suspension(s.start, day, s.why)
        for s in facts.suspensions)

    def write(saved_claim):
        TermSuspension.update(end_on=day).where(TermSuspension.id == row.id).execute()
    return Change(after=write, facts=after, note=_with_note(
        f"Fine della sospensione iniziata il {row.start_on:%d/%m/%Y} ({row.kind_label.lower()}): "
        f"{day:%d/%m/%Y}. {_term_words(claim, {}, deadlines.OFFER, after)}", note))


# ---- prescription (art. 2943, 2945, 2947 c.c.) ----------------------------------------

def interrupt_prescription(claim, user, sent_on=None, received_on=None, means=None, note=None):
    """A written demand to the insurer: it interrupts prescription from the day it arrived,
    if the right was still alive that day (checked against the whole chain of demands)."""
    errors = FieldErrors()
    day = errors.check(date, sent_on, "sent_on", _l("Lettera inviata il"))
    if means not in MEANS_WORDS:
        errors.add("means", _l("Indica se la lettera è una PEC o una raccomandata A/R."))
    _not_before(errors, day, claim.accident_date, "sent_on", _l("La lettera non può precedere la data del sinistro."))
    received = _optional_receipt(errors, received_on, day, "received_on")
    errors.raise_if_any()
    facts = term_facts.of(claim.id)
    _alive_on(claim, facts, received or day)
    after = facts.with_demand(term_facts.Demand(day, received))

    def write(saved_claim):
        PrescriptionInterruption.create(claim=saved_claim, on_date=day, received_on=received, means=means,
                                        note=text(note), recorded_by=user)
    receipt = f", ricevuta dalla compagnia il {received:%d/%m/%Y}" if received else ", in attesa di ricevuta"
    return Change(after=write, facts=after, note=_with_note(
        f"Richiesta scritta inviata il {day:%d/%m/%Y} con {MEANS_WORDS[means]}{receipt}. "
        f"{_term_words(claim, {}, deadlines.PRESCRIPTION, after)}", note))


def _alive_on(claim, facts: term_facts.TermFacts, day) -> None:
    """Refuse a demand that arrived (or was sent) once the right had prescribed, by the whole chain."""
    if not claim.accident_date:
        return
    current = next_due.prescription_term(claim, facts).due
    if day > current:
        raise InvalidData(_l("Il diritto risulta prescritto dal %(day)s: una richiesta arrivata dopo non interrompe "
                             "la prescrizione.", day=f"{current:%d/%m/%Y}"), "received_on")


def pending_demands(claim) -> list[PrescriptionInterruption]:
    return list(PrescriptionInterruption.select().where(PrescriptionInterruption.claim == claim.id,
                                                        PrescriptionInterruption.received_on.is_null())
                .order_by(PrescriptionInterruption.on_date))


def receive_demand(claim, user, demand=None, received_on=None, note=None):
    """The day a demand already recorded reached the insurer (the PEC's delivery receipt, the A/R card)."""
    rows = {row.id: row for row in pending_demands(claim)}
    row = rows.get(parse_id(demand)) if demand not in (None, "") else next(iter(rows.values()), None)
    errors = FieldErrors()
    if row is None:
        errors.add("demand", _l("Scegli la richiesta di cui è arrivata la ricevuta."))
    day = errors.check(date, received_on, "received_on", _l("Ricevuta dalla compagnia il"))
    if row is not None:
        _not_before(errors, day, row.on_date, "received_on", _l("La ricezione non può precedere l'invio."))
    errors.raise_if_any()
    facts = term_facts.of(claim.id)
    others = tuple(d for d in facts.demands if (d.sent_on, d.received_on) != (row.on_date, None))
    _alive_on(claim, term_facts.TermFacts(others, facts.suspensions), day)
    after = term_facts.TermFacts(others + (term_facts.Demand(row.on_date, day),), facts.suspensions)

    def write(saved_claim):
        PrescriptionInterruption.update(received_on=day).where(PrescriptionInterruption.id == row.id).execute()
    return Change(after=write, facts=after, note=_with_note(
        f"La richiesta inviata il {row.on_date:%d/%m/%Y} è arrivata alla compagnia il {day:%d/%m/%Y}. "
        f"{_term_words(claim, {}, deadlines.PRESCRIPTION, after)}", note))


def longer_prescription(claim, user, years=None, reason=None, note=None):
    """The fact is also a crime with a longer prescription (art. 2947 c.3 c.c.): the lawyer says
    how many years and why; 2 (or nothing) goes back to the ordinary term."""
    errors = FieldErrors()
    try:
        value = int(str(years).strip())
    except (TypeError, ValueError):
        value = None
    if value is None or not deadlines.PRESCRIPTION_YEARS <= value <= LONGEST_PRESCRIPTION:
        errors.add("years", _l("Indica gli anni di prescrizione, da %(low)d a %(high)d.",
                               low=deadlines.PRESCRIPTION_YEARS, high=LONGEST_PRESCRIPTION))
    if value and value > deadlines.PRESCRIPTION_YEARS and not text(reason):
        errors.add("reason", _l("Indica il reato e perché la prescrizione è più lunga (art. 2947 c.3 c.c.)."))
    errors.raise_if_any()
    longer = value > deadlines.PRESCRIPTION_YEARS
    updates = {"prescription_years": value if longer else None, "prescription_reason": text(reason) if longer else None}
    return Change(updates=updates, note=_with_note(
        (f"Prescrizione di {value} anni: il fatto è anche reato (art. 2947 c.3 c.c.): {text(reason)}. " if longer
         else "Prescrizione ordinaria di 2 anni (art. 2947 c.2 c.c.). ")
        + _term_words(claim, updates, deadlines.PRESCRIPTION), note))
