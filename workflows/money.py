"""What a claim has been offered and paid, read alongside a list of claims.

One correlated subquery per figure (each an index probe on payment(claim, on_date)),
so an export of many claims reads them in its one query, never one query per row.
"""
from __future__ import annotations

from decimal import Decimal

import peewee as pw
from babel.numbers import format_currency

from models import Claim, Payment

CENT = Decimal("0.01")


def last_offer():
    """The amount of the insurer's latest offer (by date, then as recorded)."""
    offer = Payment.alias()
    return (offer.select(offer.amount)
            .where(offer.claim == Claim.id, offer.kind == "offer")
            .order_by(offer.on_date.desc(), offer.id.desc()).limit(1))


def reimbursed():
    """The sum of the reimbursements received (nothing received: no value)."""
    paid = Payment.alias()
    return paid.select(pw.fn.SUM(paid.amount)).where(paid.claim == Claim.id, paid.kind == "reimbursement")


def with_totals(query: pw.ModelSelect) -> pw.ModelSelect:
    """`query` of claims, each row carrying `.last_offer` and `.reimbursed`."""
    return query.select_extend(last_offer().alias("last_offer"), reimbursed().alias("reimbursed"))


def outstanding(claimed: Decimal | None, paid) -> Decimal | None:
    """What is still to recover of the amount claimed (never below nothing); None when nothing was claimed."""
    if claimed is None:
        return None
    return max(claimed - (as_money(paid) or Decimal("0")), Decimal("0"))


def as_money(value) -> Decimal | None:
    """A figure read back as euros with two places (SQLite returns a SUM as a float)."""
    return None if value is None else Decimal(str(value)).quantize(CENT)


def format_euro(amount) -> str:
    """An amount as an Italian reads it on paper: 1.520,40 € (Babel's it_IT currency format)."""
    if amount is None:
        return ""
    return format_currency(Decimal(str(amount)).quantize(CENT), "EUR", locale="it_IT")
