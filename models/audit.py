"""The audit trail of contact addresses: every change of an address that receives e-mails."""
from __future__ import annotations

import peewee as pw
from flask_babel import lazy_gettext as _l

from .base import BaseModel, utcnow
from .users import User


class ContactChange(BaseModel):
    """One row per changed address (party, field, old, new, who, when); append-only.

    The party is named by type and id rather than by a foreign key per party table, so
    one grid reads the whole trail and a row outlives the party it speaks of.
    """

    PARTY_TYPES = (
        ("asp_centre", _l("Centro ASP")),
        ("repairer", _l("Carrozzeria")),
        ("lawyer", _l("Legale")),
        ("insurer", _l("Compagnia")),
    )

    at = pw.DateTimeField(default=utcnow, verbose_name=_l("Quando"))
    party_type = pw.CharField(max_length=20, choices=PARTY_TYPES, verbose_name=_l("Anagrafica"))
    party_id = pw.IntegerField(verbose_name=_l("Id anagrafica"))
    party_name = pw.CharField(max_length=200, verbose_name=_l("Nome"))
    field = pw.CharField(max_length=30, verbose_name=_l("Campo"))
    old_value = pw.CharField(max_length=254, null=True, verbose_name=_l("Valore precedente"))
    new_value = pw.CharField(max_length=254, null=True, verbose_name=_l("Nuovo valore"))
    actor = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL", verbose_name=_l("Chi"))
    actor_label = pw.CharField(max_length=200, verbose_name=_l("Eseguito da"))

    class Meta:
        table_name = "contact_change"
        indexes = ((("party_type", "party_id", "at"), False), (("at",), False))

    def save(self, *args, **kwargs):
        if self.id is not None and not kwargs.get("force_insert"):
            raise PermissionError("the contact audit trail is append-only")
        return super().save(*args, **kwargs)

    def delete_instance(self, *args, **kwargs):
        raise PermissionError("the contact audit trail is append-only")
