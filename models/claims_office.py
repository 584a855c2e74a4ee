"""Where a claim may be sent, and what became of each sending to an insurer's claims office.

A claim letter goes only to the addressee insurer's registered claims-office PEC or e-mail
(`InsuranceCompany.claims_pec`, `claims_email`) or to an address the call centre approved
for that insurer (`InsurerAddress`), never to one typed in the form.

A `ClaimsOfficeSending` is one press of "Invia all'ufficio sinistri": one or more outbox
rows (numbered messages) point at it (`OutboundEmail.claims_office_sending`). The claim is
filed when the insurer has it: an e-mail once the SMTP server accepted every message
(`delivered_on`, the day in Rome), a PEC once the user records its delivery receipt.
`settled_at` says that was done (or, the claim having moved meanwhile, only noted).
"""
from __future__ import annotations

import peewee as pw
from flask_babel import lazy_gettext as _l

from . import validators
from .base import BaseModel
from .claims import Claim
from .parties import InsuranceCompany, ValidatedModel
from .users import User

KINDS = (("pec", _l("PEC")), ("email", _l("E-mail")))


class InsurerAddress(ValidatedModel):
    """A claims-office address of an insurer the call centre approved, besides the registry's own."""

    KINDS = KINDS

    insurer = pw.ForeignKeyField(InsuranceCompany, backref="approved_addresses", on_delete="CASCADE",
                                 verbose_name=_l("Compagnia"))
    address = pw.CharField(max_length=254, verbose_name=_l("Indirizzo"))
    kind = pw.CharField(max_length=8, choices=KINDS, default="pec", verbose_name=_l("Tipo"))
    note = pw.CharField(max_length=300, null=True, verbose_name=_l("Nota"))
    approved_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL",
                                     verbose_name=_l("Approvato da"))
    approved_at = pw.DateTimeField(null=True, verbose_name=_l("Approvato il"))

    class Meta:
        table_name = "insurer_address"
        indexes = ((("insurer", "address"), True),)

    def validate(self) -> None:
        if self.kind not in dict(KINDS):
            raise validators.InvalidValue("kind", _l("Scegli PEC o e-mail."))
        self.address = validators.email((self.address or "").strip(), "address").lower()
        others = InsurerAddress.select().where(InsurerAddress.insurer == self.insurer_id,
                                               InsurerAddress.address == self.address)
        if self.id is not None:
            others = others.where(InsurerAddress.id != self.id)
        if others.exists():
            raise validators.InvalidValue("address", _l("Questo indirizzo è già approvato per la compagnia."))

    def __str__(self) -> str:
        return self.address


class ClaimsOfficeSending(BaseModel):
    """One sending of a claim to a claims office, and whether it has been delivered."""

    KINDS = KINDS

    claim = pw.ForeignKeyField(Claim, backref="claims_office_sendings", on_delete="CASCADE")
    kind = pw.CharField(max_length=8, choices=KINDS, verbose_name=_l("Tipo"))
    address = pw.CharField(max_length=254, verbose_name=_l("Indirizzo"))
    # The claim was Affidata when sent: its delivery files it (a later sending only adds documents).
    files_claim = pw.BooleanField(default=False)
    sent_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL", verbose_name=_l("Inviata da"))
    accepted_at = pw.DateTimeField(null=True, verbose_name=_l("Accettata dal server SMTP il"))
    delivered_on = pw.DateField(null=True, verbose_name=_l("Consegnata il"))
    receipt_recorded_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL",
                                             verbose_name=_l("Ricevuta registrata da"))
    settled_at = pw.DateTimeField(null=True, index=True)

    class Meta:
        table_name = "claims_office_sending"
        indexes = ((("claim", "created_at"), False),)
