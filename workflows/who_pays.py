"""Who pays a claim, and by which procedure: the debtor insurer ("Compagnia debitrice").

One rule, read by the claim letter, the sending to the claims office, the dossier's cover and
the claim page (`debtor`), and kept on the claim (`Claim.insurer`, for the grids, the filters
and the payer of a payment) by every change of what it reads (`reassess`, `settle`):

- the procedure is the one chosen on filing, else the portal's verdict on direct compensation
  (`next_due.procedure_of`; no verdict yet reads as the ordinary procedure);
- direct compensation (art. 149 CdA) -> the insurer of vehicle A, the claimant's own;
  the ordinary procedure (art. 148) -> the insurer of vehicle B, the other driver's;
- a debtor chosen by hand that differs from the rule's (`Claim.insurer_by_hand`: the UCI for
  a foreign vehicle, the insurer designated by the Fondo di garanzia, an insurer's successor)
  wins, and the letter goes to it. Choosing none, or the rule's own, gives the choice back
  to the rule, which then follows every later change of the facts.

`reassess` is the one place the verdict on direct compensation is computed from a claim's
facts: WinCar's intake, the opening of a claim entered by hand, every form edit and the
mapping of an insurer's name call it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from models import Claim, InsuranceCompany, db

from . import deadlines, next_due
from .direct_compensation import apply_verdict

log = logging.getLogger("gessin.workflows")

KEEP = object()  # nobody chose the debtor in this change: a hand-chosen one stays, else the rule's
REASSESSED_EVENT = "reassessed"


@dataclass(frozen=True)
class Debtor:
    procedure: str  # deadlines.DIRECT or deadlines.ORDINARY
    side: str  # "a" or "b": the vehicle whose insurer pays by the procedure
    insurer: InsuranceCompany | None
    name: str  # the insurer's name; while the registry does not know the vehicle's, the name WinCar sent
    by_hand: bool = False

    @property
    def unmapped(self) -> bool:
        """The vehicle's insurer is known only by the name WinCar sent (the call centre maps it)."""
        return self.insurer is None and bool(self.name)


def side_of(procedure: str) -> str:
    return "a" if procedure == deadlines.DIRECT else "b"


def by_rule(claim: Claim) -> int | None:
    """The registry insurer the procedure names (None while the vehicle's is unknown or unmapped)."""
    return getattr(claim, f"vehicle_{side_of(next_due.procedure_of(claim))}_insurer_id")


def debtor(claim: Claim) -> Debtor:
    """Who pays `claim` as it is now (saved or not): the hand-chosen debtor, else the rule's."""
    procedure = next_due.procedure_of(claim)
    side = side_of(procedure)
    if claim.insurer_by_hand and claim.insurer_id is not None:
        return Debtor(procedure, side, claim.insurer, claim.insurer.name, by_hand=True)
    insurer = getattr(claim, f"vehicle_{side}_insurer")
    name = insurer.name if insurer is not None else (getattr(claim, f"vehicle_{side}_insurer_name") or "")
    return Debtor(procedure, side, insurer, name)


def settle(claim: Claim, chosen=KEEP) -> dict:
    """Set on `claim` (not saved) its debtor once a change applies, and return those columns.

    `chosen`: the insurer (or id) a person picked in this change, None for none (the rule
    decides); KEEP when nobody picked one. A debtor is "by hand" only while it departs from
    the rule's: once the rule names it too (the vehicle's insurer filled in later), it
    follows the rule again.
    """
    rule = by_rule(claim)
    if chosen is not KEEP:
        claim.insurer, claim.insurer_by_hand = getattr(chosen, "id", chosen), True
    claim.insurer_by_hand = bool(claim.insurer_by_hand) and claim.insurer_id not in (None, rule)
    if not claim.insurer_by_hand:
        claim.insurer = rule
    return {"insurer": claim.insurer_id, "insurer_by_hand": bool(claim.insurer_by_hand)}


def on_filing(claim: Claim, procedure: str) -> dict:
    """The debtor's columns once `procedure` is chosen on filing (`claim` is left as it is)."""
    return settle(Claim(**{**claim.__data__, "procedure": procedure}))


def reassess(claim: Claim, chosen=KEEP) -> dict:
    """The verdict on direct compensation from `claim`'s facts, and the debtor it implies, set
    on `claim` (not saved) and returned as its columns; `chosen` as in `settle`."""
    applies, reason = apply_verdict(claim)
    return {"direct_compensation": applies, "direct_compensation_reason": reason, **settle(claim, chosen)}


@dataclass(frozen=True)
class Assessed:
    """What `reassess` writes, as a claim held it before a change."""

    applies: bool | None
    reason: str | None
    insurer_id: int | None

    @classmethod
    def of(cls, claim: Claim) -> "Assessed":
        return cls(claim.direct_compensation, claim.direct_compensation_reason, claim.insurer_id)


def change_note(before: Assessed, claim: Claim) -> str | None:
    """The history's words when a change moved the verdict or the debtor (None if neither)."""
    parts = []
    if claim.direct_compensation != before.applies:
        parts.append(f"Valutazione del portale: «{_verdict_word(before.applies)}» → "
                     f"«{_verdict_word(claim.direct_compensation)}». {claim.direct_compensation_reason}")
    elif claim.direct_compensation_reason != before.reason:
        parts.append(f"Valutazione del portale («{_verdict_word(claim.direct_compensation)}») con un nuovo motivo: "
                     f"{claim.direct_compensation_reason}")
    if claim.insurer_id != before.insurer_id:
        old = InsuranceCompany.get_or_none(InsuranceCompany.id == before.insurer_id) if before.insurer_id else None
        new = claim.insurer.name if claim.insurer_id is not None else "—"
        how = " (indicata a mano)" if claim.insurer_by_hand else ""
        parts.append(f"Compagnia debitrice: «{old.name if old else '—'}» → «{new}»{how}.")
    return " ".join(parts) or None


def _verdict_word(applies: bool | None) -> str:
    return "—" if applies is None else "Sì" if applies else "No"


def reassess_unassessed(batch: int = 500) -> int:
    """Give a verdict and its debtor to every claim that has none (entered by hand before the
    portal assessed such claims); returns how many. Run after a migration (`db-upgrade`)."""
    done, after = 0, 0
    while True:  # paged by id: a claim left without a reason is never read twice
        rows = list(Claim.select().where(Claim.direct_compensation_reason.is_null(), Claim.id > after)
                    .order_by(Claim.id).limit(batch))
        if not rows:
            break
        after = rows[-1].id
        with db.atomic():
            for claim in rows:
                columns = reassess(claim)
                Claim.update({getattr(Claim, name): value for name, value in columns.items()}).where(
                    Claim.id == claim.id).execute()
        done += len(rows)
    log.info("direct compensation assessed for %d claims that had no verdict", done)
    return done
