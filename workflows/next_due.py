"""Every deadline of an open claim, and the next one, stored on the claim.

Two kinds (DOMAIN.md, "Deadlines"): the work queue's limit for the claim's state
(`QueueLimit`, set by the call centre, counted from `status_since`: a state that waits
on someone else, such as Incompleta, runs on its own limit) and the legal terms of
`workflows.deadlines`. The next deadline is the earliest of them; the suit term is a
date from which the claimant may act, not a limit, so it is shown but never "next".

The claim keeps `next_due_on`, `next_due_kind` and `next_warn_on` so that grids filter
and sort from indexed columns; the day of its next reminder (`remind_on` in the values
below) lives in `ReminderDue`, so that the reminders' sweep finds what is due by a range
scan of a narrow table and moves it on without rewriting `claim` (and its indexes).
Both are written in the transaction of every change that moves them (`columns_after`
for one claim, `columns_for` for a batch already loaded, then `claim_columns` for the
claim's UPDATE and `schedule_after` / `schedule_reminders` for the reminder's day; `store`
does both for a batch) and by `recompute_all` / `recompute_for_limit` when a limit
changes or a day passes. An unchanged deadline keeps its reminder day.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from operator import attrgetter

import peewee as pw
from flask_babel import lazy_gettext as _l

from models import Claim, ClaimStatus, QueueLimit, ReminderDue, db

from . import clock, dates, deadlines, term_facts
from .deadline_store import BATCH, DEADLINE, REMIND, schedule_after, store

log = logging.getLogger("gessin.workflows")

QUEUE = "queue"
LEGAL_WARNING_DAYS = 7  # a legal term is "in scadenza" in its last week...
# ... but prescription two months ahead: a registered letter takes days to arrive, and the
# decision to sue takes more.
WARNING_DAYS = {deadlines.PRESCRIPTION: 60}
IN_TIME, DUE_SOON, OVERDUE = "in_time", "due_soon", "overdue"
LEVEL_LABELS = {IN_TIME: _l("in tempo"), DUE_SOON: _l("in scadenza"), OVERDUE: _l("scaduta")}
LEVEL_BADGES = {IN_TIME: "success", DUE_SOON: "warning", OVERDUE: "danger"}
KIND_LABELS = {
    QUEUE: _l("Tempo di permanenza nello stato"),
    deadlines.OFFER: _l("Offerta della compagnia"),
    deadlines.PAYMENT: _l("Pagamento dopo la risposta all'offerta"),
    deadlines.SUIT: _l("Azione in giudizio possibile dal"),
    deadlines.PRESCRIPTION: _l("Prescrizione del diritto"),
}
RECOVERY = (ClaimStatus.FILED, ClaimStatus.PARTIALLY_REIMBURSED)
OPEN = tuple(s for s in ClaimStatus.ALL if s not in ClaimStatus.FINAL)
# What the rules read of a claim: a batch that loads these can compute without another query.
# (The demands and suspensions are rows: `workflows.term_facts` reads a batch's in two queries.)
COLUMNS = ("status", "status_since", "accident_date", "claim_filed_on", "signed_by_both", "personal_injury",
           "procedure", "direct_compensation", "missing_requested_on", "missing_received_on", "offer_received_on",
           "offer_refused_on", "first_paid_on", "fraud_check_on", "offer_answered_on", "answer_received_on",
           "prescription_years", "prescription_reason")
NAMES = DEADLINE + (REMIND,)


@dataclass(frozen=True)
class Deadline:
    kind: str
    due: dt.date | None
    warn_on: dt.date | None
    basis: str

    @property
    def label(self):
        return KIND_LABELS[self.kind]

    def days_left(self, today: dt.date | None = None) -> int | None:
        return None if self.due is None else (self.due - (today or clock.today())).days

    def level(self, today: dt.date | None = None) -> str | None:
        """In time, due soon or overdue; None for no date, and for the suit term, a day from
        which the claimant may act rather than a limit anyone can miss."""
        today = today or clock.today()
        if self.due is None or self.kind == deadlines.SUIT:
            return None
        if today > self.due:
            return OVERDUE
        return DUE_SOON if self.warn_on is not None and today >= self.warn_on else IN_TIME


def level_of(due_on: dt.date | None, warn_on: dt.date | None, today: dt.date | None = None) -> str | None:
    """The level of a stored next deadline (`next_due_on`, `next_warn_on`) on `today`."""
    return Deadline(QUEUE, due_on, warn_on, "").level(today)


def level_clause(level: str, today: dt.date | None = None) -> pw.Expression:
    """The claims whose stored next deadline is at `level` today, as a condition on the
    indexed columns (the same rule as `Deadline.level`; a claim without one matches none)."""
    today = today or clock.today()
    if level == OVERDUE:
        return Claim.next_due_on < today
    if level == DUE_SOON:
        return (Claim.next_warn_on <= today) & (Claim.next_due_on >= today)
    if level == IN_TIME:
        return (Claim.next_due_on >= today) & (Claim.next_warn_on.is_null() | (Claim.next_warn_on > today))
    raise ValueError(f"unknown deadline level: {level!r}")


def procedure_of(claim) -> str:
    """The procedure chosen on filing, else the portal's own verdict on direct compensation."""
    return claim.procedure or (deadlines.DIRECT if claim.direct_compensation else deadlines.ORDINARY)


def queue_deadline(claim, limit: QueueLimit | None) -> Deadline | None:
    """The state's limit from the day the claim entered it, in calendar or working days as
    the call centre chose (`QueueLimit.working_days`); none in a final state."""
    if limit is None or claim.status not in OPEN or claim.status != limit.status or claim.status_since is None:
        return None
    since, working = dates.to_rome(claim.status_since).date(), bool(limit.working_days)
    day = (lambda n: deadlines.add_working_days(since, n)) if working else (lambda n: since + dt.timedelta(days=n))
    unit = ("giorno lavorativo", "giorni lavorativi") if working else ("giorno", "giorni")
    return Deadline(QUEUE, day(limit.breach_days), day(limit.warning_days),
                    f"al massimo {limit.breach_days} {unit[limit.breach_days != 1]} nello stato attuale, "
                    f"dal {since:%d/%m/%Y} (preavviso dopo {limit.warning_days})")


def legal_terms(claim, facts: term_facts.TermFacts | None = None) -> list[deadlines.Term]:
    """The legal terms that apply to the claim in its state, the suit term included.

    `facts` are the claim's demands and suspensions (`workflows.term_facts`); None reads them.
    """
    if claim.status not in OPEN:
        return []
    if facts is None:
        facts = term_facts.of(getattr(claim, "id", None))
    terms = []
    if claim.status in RECOVERY and claim.claim_filed_on:
        offer = offer_term(claim, facts)
        if offer_pending(claim):
            terms.append(offer)
        payment = payment_term(claim)
        if payment is not None:
            terms.append(payment)
        moved = facts.suspensions or (claim.missing_requested_on is not None and deadlines.request_in_time(
            claim.claim_filed_on, claim.missing_requested_on))
        terms.append(deadlines.suit_allowed_from(claim.claim_filed_on, personal_injury=bool(claim.personal_injury),
                                                 offer=offer if moved else None))
    if claim.accident_date:
        terms.append(prescription_term(claim, facts))
    return terms


def offer_pending(claim) -> bool:
    """The offer term runs until the insurer makes an offer, says why it makes none, or pays."""
    return claim.offer_received_on is None and claim.offer_refused_on is None and claim.first_paid_on is None


def offer_term(claim, facts: term_facts.TermFacts) -> deadlines.Term:
    return deadlines.offer_due(
        claim.claim_filed_on, signed_by_both=bool(claim.signed_by_both),
        personal_injury=bool(claim.personal_injury), procedure=procedure_of(claim),
        missing_requested_on=claim.missing_requested_on,
        missing_received_on=claim.missing_received_on if claim.missing_requested_on else None,
        suspensions=facts.suspensions, fraud_check_on=claim.fraud_check_on)


def payment_term(claim) -> deadlines.Term | None:
    """After the answer to the offer reached the insurer, or an offer left unanswered (art. 148 c.6-8)."""
    if claim.status != ClaimStatus.FILED or claim.first_paid_on is not None or claim.offer_received_on is None:
        return None
    if claim.offer_answered_on:
        return deadlines.payment_due(claim.offer_answered_on, claim.answer_received_on)
    return deadlines.payment_if_unanswered(claim.offer_received_on)


def prescription_term(claim, facts: term_facts.TermFacts) -> deadlines.Term:
    """The chain of every demand that reached the insurer, the claim letter's receipt included."""
    demands = facts.received() + ((claim.claim_filed_on,) if claim.claim_filed_on else ())
    term = deadlines.prescription(claim.accident_date, demands=demands, years=claim.prescription_years,
                                  reason=claim.prescription_reason)
    waiting = facts.awaiting_receipt()
    if waiting:
        sent = ", ".join(f"{day:%d/%m/%Y}" for day in waiting)
        term = deadlines.Term(term.due, f"{term.basis}; in attesa di ricevuta la richiesta inviata il {sent}: "
                                        "interromperà la prescrizione dal giorno in cui la compagnia l'ha ricevuta",
                              term.kind)
    return term


def warning_day(term: deadlines.Term) -> dt.date | None:
    if term.due is None or term.kind == deadlines.SUIT:
        return None
    return term.due - dt.timedelta(days=WARNING_DAYS.get(term.kind, LEGAL_WARNING_DAYS))


def all_deadlines(claim, limit: QueueLimit | None, facts: term_facts.TermFacts | None = None) -> list[Deadline]:
    """The queue limit of the state (if any) and every legal term, as the claim page lists them."""
    found = [queue_deadline(claim, limit)]
    found += [Deadline(term.kind, term.due, warning_day(term), term.basis) for term in legal_terms(claim, facts)]
    return [d for d in found if d is not None]


def next_deadline(claim, limit: QueueLimit | None, facts: term_facts.TermFacts | None = None) -> Deadline | None:
    candidates = [d for d in all_deadlines(claim, limit, facts) if d.due is not None and d.kind != deadlines.SUIT]
    return min(candidates, key=lambda d: (d.due, d.kind != QUEUE), default=None)


def values_of(found: Deadline | None) -> dict:
    """The claim's stored next deadline; its reminders start again from the warning day
    (`workflows.reminders`: the sent-reminder key says whether one was already sent)."""
    return {"next_due_on": found.due if found else None, "next_due_kind": found.kind if found else None,
            "next_warn_on": found.warn_on if found else None,
            "remind_on": (found.warn_on or found.due) if found else None}


def _unchanged(claim, new: dict) -> bool:
    return all(new[name] == getattr(claim, name) for name in DEADLINE)


def limits() -> dict[str, QueueLimit]:
    return {limit.status: limit for limit in QueueLimit.select()}


class Projected:
    """A claim as it will be once `changes` (column name -> value) are written."""

    def __init__(self, claim: Claim, changes: dict):
        self._claim, self._changes = claim, changes

    def __getattr__(self, name):
        return self._changes[name] if name in self._changes else getattr(self._claim, name)


def columns_after(claim: Claim, changes: dict, facts: term_facts.TermFacts | None = None) -> dict:
    """The next-deadline values of `claim` once `changes` apply (and its demands and
    suspensions are `facts`; None: as stored); the reminder's day only when the deadline
    changes (the same deadline: its reminders go on from where they were)."""
    after = Projected(claim, changes)
    limit = QueueLimit.get_or_none(QueueLimit.status == after.status)
    new = values_of(next_deadline(after, limit, facts if facts is not None else term_facts.of(claim.id)))
    if _unchanged(claim, new):
        del new[REMIND]
    return new


def columns_for(claims_and_changes, limits_by_status: dict[str, QueueLimit],
                facts_by_id: dict[int, term_facts.TermFacts]) -> dict[int, dict]:
    """Claim id -> next-deadline values, for claims already loaded with `COLUMNS` and
    `DEADLINE` and their `facts_by_id` (`term_facts.for_claims`: no query here); as
    `columns_after`, an unchanged deadline keeps its reminder day."""
    out = {}
    for claim, changes in claims_and_changes:
        after = Projected(claim, changes)
        new = values_of(next_deadline(after, limits_by_status.get(after.status),
                                      facts_by_id.get(claim.id, term_facts.NONE)))
        if _unchanged(claim, new):
            del new[REMIND]
        out[claim.id] = new
    return out


def columns_for_alike(claims, changes: dict, limits_by_status: dict[str, QueueLimit],
                      facts_by_id: dict[int, term_facts.TermFacts]) -> dict[int, dict]:
    """As `columns_for`, for claims that all take the same `changes` (a bulk action's group):
    claims that read alike to the rules (and hold the same deadline now) are computed once."""
    out, found = {}, {}
    read_of = attrgetter(*(name for name in COLUMNS + DEADLINE if name not in changes))  # the rest is `changes`
    for claim in claims:
        read = (read_of(claim), facts_by_id.get(claim.id, term_facts.NONE))
        if read not in found:
            found[read] = columns_for([(claim, changes)], limits_by_status, facts_by_id)[claim.id]
        out[claim.id] = found[read]
    return out


def claim_columns(values: dict) -> dict:
    """The claim's own columns among next-deadline values, as peewee fields for an UPDATE."""
    return {getattr(Claim, name): values[name] for name in DEADLINE if name in values}


def update_claim(claim: Claim, values: dict, *conditions, changes: dict | None = None) -> int:
    """UPDATE one claim with `values` (peewee fields) and its next deadline once `changes`
    apply (none: `claim` already holds them, as a populated form's model), where
    `conditions` still hold, and its reminder day in the same transaction; rows updated."""
    new = columns_after(claim, changes or {})
    with db.atomic():
        updated = Claim.update({**values, **claim_columns(new)}).where(Claim.id == claim.id, *conditions).execute()
        if updated:
            schedule_after(claim.id, new)
    return updated


def _write(rows: list, limits_by_status: dict[str, QueueLimit]) -> int:
    """Store the next deadline of `rows` (loaded with `COLUMNS`); only those that changed."""
    changed, facts_by_id = {}, term_facts.for_claims(claim.id for claim in rows)
    for claim in rows:
        new = values_of(next_deadline(claim, limits_by_status.get(claim.status),
                                      facts_by_id.get(claim.id, term_facts.NONE)))
        if not _unchanged(claim, new):
            changed[claim.id] = new
    if not changed:
        return 0
    with db.atomic():
        return store(changed, {claim.id: claim.version for claim in rows if claim.id in changed})


def _recompute(statuses, batch: int) -> int:
    """Each state's claims in pages of `batch`, read along the (status, received_at) index:
    every page is a range scan from where the last one stopped, never a scan from the start."""
    limits_by_status, changed = limits(), 0
    fields = [Claim.id, Claim.version, Claim.received_at, Claim.next_due_on, Claim.next_due_kind,
              Claim.next_warn_on] + [getattr(Claim, name) for name in COLUMNS]
    for status in statuses:
        after = None
        while True:
            query = Claim.select(*fields).where(Claim.status == status)
            if after is not None:
                query = query.where(pw.Tuple(Claim.received_at, Claim.id) > pw.Tuple(*after))
            # Read outside the write's transaction (SQLite would have to upgrade a read lock);
            # `store` skips a claim whose version moved meanwhile.
            rows = list(query.order_by(Claim.received_at, Claim.id).limit(batch).namedtuples())
            if not rows:
                break
            changed += _write(rows, limits_by_status)
            after = (rows[-1].received_at, rows[-1].id)
    return changed


def _clear_final(statuses) -> int:
    """A claim in a final state has no next deadline: clear any it stores (left by a limit
    once set on that state, or by a change made outside the workflow) and its pending
    reminder, in one statement each; returns how many claims had one."""
    final = Claim.status.in_([s for s in statuses if s not in OPEN])
    stored = Claim.next_due_on.is_null(False) | Claim.next_due_kind.is_null(False) | Claim.next_warn_on.is_null(False)
    with db.atomic():
        cleared = Claim.update(next_due_on=None, next_due_kind=None, next_warn_on=None).where(final, stored).execute()
        ReminderDue.delete().where(ReminderDue.claim.in_(Claim.select(Claim.id).where(final))).execute()
    return cleared


def recompute_all(batch: int = BATCH) -> int:
    """Recompute every open claim's next deadline, in batches by id, and clear any a closed
    one stores; returns how many changed.

    The stored dates do not move as days pass (only the level read from them does, so
    a daily sweep needs a range scan of `next_warn_on` / `next_due_on`, not this); this
    brings in line claims changed outside the workflow (a migration, a WinCar seguito of
    the accident date) or a new version of the rules.
    """
    changed = _recompute(OPEN, batch) + _clear_final(ClaimStatus.FINAL)
    log.info("next deadlines recomputed for every claim: %d changed", changed)
    return changed


def recompute_for_limit(status: str, batch: int = BATCH) -> int:
    """After the call centre changed (or removed) the limit of `status`: its claims, at once
    (in a final state, where no limit applies, whatever deadline they store is cleared)."""
    changed = _recompute((status,), batch) if status in OPEN else _clear_final((status,))
    log.info("next deadlines recomputed for the claims in state %s: %d changed", status, changed)
    return changed
