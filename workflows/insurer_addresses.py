"""Where a claim may be sent: the addressee insurer's registered claims-office PEC and e-mail,
and the addresses the call centre approved for that insurer (`InsurerAddress`).

Nothing else: an address typed in a form could be anyone's, and a claim letter that reached
someone else has not reached the insurer (its offer term would never start).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from models import InsuranceCompany, InsurerAddress, Role, User, utcnow

from . import who_pays
from .errors import NotAllowed

log = logging.getLogger("gessin.workflows")

WHERE_TO_ADD = _l("Anagrafiche > Indirizzi uffici sinistri")
LABELS = {
    ("registry", "pec"): _l("PEC ufficio sinistri"),
    ("registry", "email"): _l("E-mail ufficio sinistri"),
    ("approved", "pec"): _l("PEC approvata dal call center"),
    ("approved", "email"): _l("E-mail approvata dal call center"),
}


@dataclass(frozen=True)
class Address:
    address: str
    kind: str  # "pec" or "email"
    source: str  # "registry" (the insurer's own record) or "approved" (an InsurerAddress)

    @property
    def is_pec(self) -> bool:
        return self.kind == "pec"

    @property
    def label(self):
        return LABELS[(self.source, self.kind)]


def may_manage(user: User | None) -> bool:
    """The call centre alone approves an insurer's addresses."""
    return user is not None and user.is_active and user.role == Role.ADMIN


def addressee_insurer(claim) -> InsuranceCompany | None:
    """The registry insurer the claim letter is addressed to: the debtor of `workflows.who_pays`."""
    return who_pays.debtor(claim).insurer


def of_insurer(insurer: InsuranceCompany | None) -> list[Address]:
    """The registry's PEC, then its e-mail, then the approved ones (PEC first), each once."""
    if insurer is None:
        return []
    found = [Address(insurer.claims_pec.lower(), "pec", "registry")] if insurer.claims_pec else []
    if insurer.claims_email:
        found.append(Address(insurer.claims_email.lower(), "email", "registry"))
    approved = (InsurerAddress.select().where(InsurerAddress.insurer == insurer)
                .order_by(InsurerAddress.kind.desc(), InsurerAddress.address))  # "pec" before "email"
    found += [Address(row.address.lower(), row.kind, "approved") for row in approved]
    seen: set[str] = set()
    return [a for a in found if not (a.address in seen or seen.add(a.address))]


def allowed(claim) -> list[Address]:
    return of_insurer(addressee_insurer(claim))


def find(claim, address: str) -> Address | None:
    wanted = (address or "").strip().lower()
    return next((a for a in allowed(claim) if a.address == wanted), None)


def stamp(row: InsurerAddress, user: User) -> InsurerAddress:
    """Who approved `row`, and when; refused to anyone but the call centre."""
    if not may_manage(user):
        raise NotAllowed(_l("Solo il call center approva gli indirizzi degli uffici sinistri."))
    row.approved_by, row.approved_at = user, utcnow()
    return row


def approve(user: User, insurer: InsuranceCompany, address: str, kind: str, note: str | None = None) -> InsurerAddress:
    row = stamp(InsurerAddress(insurer=insurer, address=address, kind=kind, note=note), user)
    row.save()
    log.info("claims-office address %s (%s) approved for insurer %s by %s", row.address, kind, insurer.id, user.login)
    return row
