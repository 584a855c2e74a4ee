"""What the legal terms read of a claim beyond its own row: the demands that interrupt
prescription and the suspensions of the offer term, one row each (`PrescriptionInterruption`,
`TermSuspension`).

`of` reads one claim's; `for_claims` a batch's in two queries, so that a bulk action or a
recomputation computes every claim's terms without a query per claim. Most claims have
none: they share `NONE`.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace

from models import PrescriptionInterruption, TermSuspension

from . import deadlines

SUSPENSION_WHY = {
    "inspection": "rifiuto dell'ispezione del veicolo da parte del danneggiato (art. 148 c.3 CdA)",
    "medical": "rifiuto dell'accertamento medico da parte del danneggiato (art. 148 c.3 CdA)",
}


@dataclass(frozen=True)
class Demand:
    """A written demand to the insurer: sent on `sent_on`, received on `received_on` (None: not known yet)."""

    sent_on: dt.date
    received_on: dt.date | None


@dataclass(frozen=True)
class TermFacts:
    demands: tuple[Demand, ...] = ()
    suspensions: tuple[deadlines.Suspension, ...] = ()

    def received(self) -> tuple[dt.date, ...]:
        return tuple(d.received_on for d in self.demands if d.received_on is not None)

    def awaiting_receipt(self) -> tuple[dt.date, ...]:
        return tuple(d.sent_on for d in self.demands if d.received_on is None)

    def with_demand(self, demand: Demand) -> TermFacts:
        return replace(self, demands=self.demands + (demand,))

    def with_suspensions(self, suspensions) -> TermFacts:
        return replace(self, suspensions=tuple(suspensions))


NONE = TermFacts()


def suspension_of(row) -> deadlines.Suspension:
    return deadlines.Suspension(row.start_on, row.end_on, SUSPENSION_WHY[row.kind])


def for_claims(claim_ids) -> dict[int, TermFacts]:
    """Claim id -> its facts, for the claims that have any (the others: `NONE`)."""
    ids = list(claim_ids)
    if not ids:
        return {}
    demands, suspensions = defaultdict(list), defaultdict(list)
    for row in (PrescriptionInterruption.select(PrescriptionInterruption.claim, PrescriptionInterruption.on_date,
                                                PrescriptionInterruption.received_on)
                .where(PrescriptionInterruption.claim.in_(ids)).order_by(PrescriptionInterruption.on_date)):
        demands[row.claim_id].append(Demand(row.on_date, row.received_on))
    for row in (TermSuspension.select(TermSuspension.claim, TermSuspension.kind, TermSuspension.start_on,
                                      TermSuspension.end_on)
                .where(TermSuspension.claim.in_(ids)).order_by(TermSuspension.start_on)):
        suspensions[row.claim_id].append(suspension_of(row))
    return {claim_id: TermFacts(tuple(demands[claim_id]), tuple(suspensions[claim_id]))
            for claim_id in set(demands) | set(suspensions)}


def of(claim_id: int | None) -> TermFacts:
    if claim_id is None:
        return NONE
    return for_claims([claim_id]).get(claim_id, NONE)
