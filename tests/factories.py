"""Small builders of valid rows for tests: real models, real database."""
from __future__ import annotations

import functools
import itertools
import random

from stdnum import luhn

from models import (
    AspCentre,
    Claim,
    InsuranceCompany,
    Lawyer,
    LawyerCentre,
    OutboundEmail,
    OutboundMessage,
    Repairer,
    Role,
    User,
)
from workflows.claims import open_claim
from workflows.parties import ensure_own_desk

_seq = itertools.count(1)
PASSWORD = "password-di-prova"


def vat_number() -> str:
    """A valid Italian partita IVA, different at every call."""
    base = f"{next(_seq):07d}" + "015"
    return base + luhn.calc_check_digit(base)


def plate() -> str:
    letters = "ABCDEFGHJKLMNPRSTVWXYZ"
    return (random.choice(letters) + random.choice(letters) + f"{random.randint(0, 999):03d}"
            + random.choice(letters) + random.choice(letters))


def centre(**kw) -> AspCentre:
    n = next(_seq)
    data = dict(name=f"Centro ASP {n}", vat_number=vat_number(), email=f"centro{n}@example.it")
    data.update(kw)
    c = AspCentre.create(**data)
    ensure_own_desk(c)
    return c


def repairer(**kw) -> Repairer:
    n = next(_seq)
    data = dict(name=f"Carrozzeria {n}", vat_number=vat_number(), email=f"carrozzeria{n}@example.it")
    data.update(kw)
    return Repairer.create(**data)


def lawyer(*centres: AspCentre, **kw) -> Lawyer:
    n = next(_seq)
    data = dict(name=f"Avv. Prova {n}", email=f"legale{n}@example.it")
    data.update(kw)
    law = Lawyer.create(**data)
    for c in centres:
        LawyerCentre.create(lawyer=law, asp_centre=c)
    return law


def insurer(**kw) -> InsuranceCompany:
    n = next(_seq)
    data = dict(name=f"Assicurazioni {n}", claims_email=f"sinistri{n}@example.it")
    data.update(kw)
    return InsuranceCompany.create(**data)


@functools.cache
def _hash(password: str) -> str:
    """Hashing is slow on purpose; tests hash each password once."""
    u = User()
    u.set_password(password)
    return u.password_hash


def user(role: str = Role.ADMIN, password: str = PASSWORD, **kw) -> User:
    n = next(_seq)
    u = User(login=kw.pop("login", f"utente{n}"), role=role, full_name=kw.pop("full_name", f"Utente {n}"), **kw)
    u.password_hash = _hash(password)
    u.save()
    return u


def claim(repairer: Repairer, centre: AspCentre, actor: User | None = None, **kw) -> Claim:
    data = dict(repairer=repairer, asp_centre=centre, customer_name="Mario Rossi",
                vehicle_a_plate=plate(), vehicle_b_plate=plate())
    data.update(kw)
    return open_claim(Claim(**data), actor, source=kw.get("source", "web"))


def outbox_email(subject: str = "Prova", body: str = "Testo", **kw) -> OutboundEmail:
    """An outbox row, its text a message of its own unless `message` is given; `kw` sets the row's columns."""
    message = kw.pop("message", None) or OutboundMessage.create(subject=subject, body=body)
    return OutboundEmail.create(**{"recipients": "a@example.it", "message": message, **kw})
