"""Onboarding: the privacy notice, body shops' registration requests, repairer–centre links."""
from __future__ import annotations

import peewee as pw
from flask_babel import lazy_gettext as _l

from . import validators
from .base import BaseModel
from .parties import AspCentre, Repairer, ValidatedModel
from .users import User


class PrivacyNotice(BaseModel):
    """A version of the privacy notice shown on the registration page; never changed once written."""

    version = pw.IntegerField(unique=True, verbose_name=_l("Versione"))
    title = pw.CharField(max_length=200, verbose_name=_l("Titolo"))
    text = pw.TextField(verbose_name=_l("Testo"))

    class Meta:
        table_name = "privacy_notice"

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class RepairerCentre(BaseModel):
    """The ASP centres a body shop works with (one or more)."""

    repairer = pw.ForeignKeyField(Repairer, backref="centre_links", on_delete="CASCADE",
                                  verbose_name=_l("Carrozzeria"))
    asp_centre = pw.ForeignKeyField(AspCentre, backref="repairer_links", on_delete="CASCADE",
                                    verbose_name=_l("Centro ASP"))

    class Meta:
        table_name = "repairer_centre"
        indexes = ((("repairer", "asp_centre"), True), (("asp_centre", "repairer"), False))


class RegistrationRequest(ValidatedModel):
    """A body shop's request to join the portal, from the public registration page."""

    UNCONFIRMED, PENDING, APPROVED, REJECTED = "unconfirmed", "pending", "approved", "rejected"
    STATUSES = (
        (UNCONFIRMED, _l("E-mail da confermare")),
        (PENDING, _l("Da esaminare")),
        (APPROVED, _l("Approvata")),
        (REJECTED, _l("Respinta")),
    )

    name = pw.CharField(max_length=200, verbose_name=_l("Ragione sociale"))
    vat_number = pw.CharField(max_length=11, index=True, verbose_name=_l("Partita IVA"))
    fiscal_code = pw.CharField(max_length=16, verbose_name=_l("Codice fiscale"))
    address = pw.CharField(max_length=300, verbose_name=_l("Indirizzo"))
    email = pw.CharField(max_length=254, verbose_name=_l("E-mail"))
    pec = pw.CharField(max_length=254, null=True, verbose_name=_l("PEC"))
    phone = pw.CharField(max_length=40, verbose_name=_l("Telefono"))
    contact_person = pw.CharField(max_length=200, verbose_name=_l("Referente"))
    asp_centre = pw.ForeignKeyField(AspCentre, backref="registration_requests", on_delete="CASCADE",
                                    verbose_name=_l("Centro ASP di riferimento"))
    privacy_notice = pw.ForeignKeyField(PrivacyNotice, on_delete="RESTRICT", verbose_name=_l("Informativa privacy"))
    privacy_accepted_at = pw.DateTimeField(verbose_name=_l("Informativa accettata il"))
    remote_addr = pw.CharField(max_length=64, null=True, index=True, verbose_name=_l("Indirizzo IP"))
    status = pw.CharField(max_length=12, choices=STATUSES, default=UNCONFIRMED, index=True, verbose_name=_l("Stato"))
    email_confirmed_at = pw.DateTimeField(null=True, verbose_name=_l("E-mail confermata il"))
    decided_at = pw.DateTimeField(null=True, verbose_name=_l("Decisa il"))
    decided_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL", verbose_name=_l("Decisa da"))
    reject_reason = pw.TextField(null=True, verbose_name=_l("Motivo del rifiuto"))
    repairer = pw.ForeignKeyField(Repairer, null=True, on_delete="SET NULL", verbose_name=_l("Carrozzeria"))

    class Meta:
        table_name = "registration_request"

    def validate(self) -> None:
        self.vat_number = validators.vat_number(self.vat_number, "vat_number")
        self.fiscal_code = validators.fiscal_code(self.fiscal_code, "fiscal_code")
        self._clean_contacts()

    def __str__(self) -> str:
        return self.name


class PasswordResetRequest(BaseModel):
    """Each "Password dimenticata" request (created_at is when), read to limit them."""

    login = pw.CharField(max_length=254)  # as typed, whether or not such a user exists
    address = pw.CharField(max_length=64, null=True)
    user = pw.ForeignKeyField(User, null=True, on_delete="CASCADE")

    class Meta:
        table_name = "password_reset_request"
        indexes = ((("address", "created_at"), False), (("user", "created_at"), False))
