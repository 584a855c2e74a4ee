"""Duplicate warnings: other claims with one of the same plates and the same accident date.

A plate may be vehicle A on one claim and vehicle B on another (each party's body
shop sends its own file), so both plate columns are searched; each has an index
with the accident date. The search is scope-free on purpose: a file sent to two
ASP centres is a real duplicate too. The caller decides what a user may see of a
match; outside the user's scope, show only its number.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from models import Claim
from models.validators import normalise_plate


def possible_duplicates(plates: Iterable[str | None], accident_date: dt.date | None,
                        exclude_claim_id: int | None = None) -> list[Claim]:
    """Claims whose plate A or B is one of `plates` (normalised here), on `accident_date`.

    Oldest first, with their id, number and received date only. No date or no plate:
    nothing to compare, so no warning.
    """
    wanted = sorted({normalise_plate(p) for p in plates if p} - {""})
    if not wanted or accident_date is None:
        return []
    query = Claim.select(Claim.id, Claim.number, Claim.received_at).where(
        ((Claim.vehicle_a_plate.in_(wanted)) & (Claim.accident_date == accident_date))
        | ((Claim.vehicle_b_plate.in_(wanted)) & (Claim.accident_date == accident_date)))
    if exclude_claim_id is not None:
        query = query.where(Claim.id != exclude_claim_id)
    return list(query.order_by(Claim.received_at, Claim.id))


def duplicates_of(claim: Claim) -> list[Claim]:
    """Other claims that may be the same accident as `claim` (saved or not)."""
    return possible_duplicates([claim.vehicle_a_plate, claim.vehicle_b_plate], claim.accident_date,
                               exclude_claim_id=claim.id)
