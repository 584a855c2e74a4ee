"""Duplicate warnings: other claims with one of the same plates and the same accident date.

A plate may be vehicle A on one claim and vehicle B on another (each party's body
shop sends its own file), so both plate columns are searched; each has an index
with the accident date. The search is scope-free on purpose: a file sent to two
ASP centres is a real duplicate too. What a caller is told of a match is decided
here too: a staff user sees the numbers it may open and a count of the others
(`numbers_for`), a repairer through the WinCar API only its own files (`own_numbers`).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from models import Claim, Repairer, User
from models.validators import normalise_plate

from . import access


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


def recorded_numbers(claim: Claim) -> list[str]:
    """The numbers the intake recorded on `claim` as possible duplicates."""
    return [n for n in (claim.possible_duplicates or "").split(",") if n]


def numbers_for(user: User, claim: Claim) -> tuple[list[str], int]:
    """The duplicates' numbers `user` may open, and how many others there are."""
    numbers = recorded_numbers(claim)
    if not numbers:
        return [], 0
    mine = [c.number for c in access.visible_claims(user, Claim.number).where(Claim.number.in_(numbers))
            .order_by(Claim.number)]
    return mine, len(numbers) - len(mine)


def own_numbers(repairer: Repairer, claim: Claim) -> list[str]:
    """The duplicates that are `repairer`'s own files: nothing, not even a count, of anyone else's
    (a guessed plate and date must not tell whether another body shop sent that accident)."""
    numbers = recorded_numbers(claim)
    if not numbers:
        return []
    return [c.number for c in Claim.select(Claim.number)
            .where(Claim.number.in_(numbers), Claim.repairer == repairer.id).order_by(Claim.number)]
