"""Other spellings of a registry insurer, maintained by the call centre.

WinCar sends the insurer of each vehicle as free text. A name the registry does not
know stays on the claim as sent (`Claim.vehicle_a_insurer_name`, ...) until the call
centre maps it once to a registry insurer: that mapping is an alias, looked up by the
normalised name (see `workflows.insurers.normalise`) on every later intake.
"""
from __future__ import annotations

import peewee as pw
from flask_babel import lazy_gettext as _l

from .base import BaseModel
from .parties import InsuranceCompany
from .users import User


class InsurerAlias(BaseModel):
    key = pw.CharField(max_length=200, unique=True, verbose_name=_l("Nome normalizzato"))
    name = pw.CharField(max_length=200, verbose_name=_l("Nome ricevuto"))
    insurer = pw.ForeignKeyField(InsuranceCompany, backref="+", on_delete="CASCADE", verbose_name=_l("Compagnia"))
    created_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL", verbose_name=_l("Abbinato da"))

    class Meta:
        table_name = "insurer_alias"

    def __str__(self) -> str:
        return self.name
