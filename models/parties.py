"""The parties linked to a claim: ASP centres, repairers, lawyers, insurers."""
from __future__ import annotations

import peewee as pw
from flask_babel import lazy_gettext as _l

from . import validators
from .base import BaseModel


class ValidatedModel(BaseModel):
    """Runs `validate()` before every save, so no path stores a malformed code.

    `unique_messages` names the unique columns people type (a partita IVA, a login) and
    what to tell them when another row has the value: checked before the save, so the
    form shows the sentence by its field instead of the database's error.
    """

    unique_messages: dict = {}

    def validate(self) -> None:  # pragma: no cover - overridden
        pass

    def check_unique(self) -> None:
        model, pk = type(self), type(self)._meta.primary_key
        for name, message in self.unique_messages.items():
            value = getattr(self, f"{name}_id" if isinstance(model._meta.fields[name], pw.ForeignKeyField) else name)
            if value is None:
                continue
            others = model.select(pk).where(model._meta.fields[name] == value)
            # the key's own attribute, not get_id(): User.get_id() is Flask-Login's session token
            own_key = getattr(self, pk.name)
            if own_key is not None:
                others = others.where(pk != own_key)
            if others.exists():
                raise validators.InvalidValue(name, message)

    def save(self, *args, **kwargs):
        self.validate()
        self.check_unique()
        return super().save(*args, **kwargs)

    def _clean_contacts(self) -> None:
        for name in ("email", "pec", "claims_email", "claims_pec"):
            value = getattr(self, name, None)
            if value:
                setattr(self, name, validators.email(value, name))


class AspCentre(ValidatedModel):
    unique_messages = {"vat_number": _l("Esiste già un Centro ASP con questa partita IVA.")}

    name = pw.CharField(max_length=200, verbose_name=_l("Ragione sociale"))
    vat_number = pw.CharField(max_length=11, unique=True, verbose_name=_l("Partita IVA"))
    email = pw.CharField(max_length=254, verbose_name=_l("E-mail"))
    pec = pw.CharField(max_length=254, null=True, verbose_name=_l("PEC"))
    address = pw.CharField(max_length=300, null=True, verbose_name=_l("Indirizzo"))
    phone = pw.CharField(max_length=40, null=True, verbose_name=_l("Telefono"))
    active = pw.BooleanField(default=True, verbose_name=_l("Attivo"))

    def validate(self) -> None:
        self.vat_number = validators.vat_number(self.vat_number, "vat_number")
        self._clean_contacts()

    def __str__(self) -> str:
        return self.name


class Repairer(ValidatedModel):
    unique_messages = {"vat_number": _l("Esiste già una carrozzeria con questa partita IVA."),
                       "wincar_user": _l("Questo UserID WinCar è già di un'altra carrozzeria.")}

    name = pw.CharField(max_length=200, verbose_name=_l("Ragione sociale"))
    vat_number = pw.CharField(max_length=11, unique=True, verbose_name=_l("Partita IVA"))
    fiscal_code = pw.CharField(max_length=16, null=True, verbose_name=_l("Codice fiscale"))
    address = pw.CharField(max_length=300, null=True, verbose_name=_l("Indirizzo"))
    email = pw.CharField(max_length=254, verbose_name=_l("E-mail"))
    pec = pw.CharField(max_length=254, null=True, verbose_name=_l("PEC"))
    phone = pw.CharField(max_length=40, null=True, verbose_name=_l("Telefono"))
    wincar_user = pw.CharField(max_length=64, null=True, unique=True, verbose_name=_l("UserID WinCar"))
    wincar_password_hash = pw.CharField(max_length=255, null=True)
    # Where and when a damaged vehicle can be inspected (art. 148 CdA), and where the
    # insurer pays when the credit was assigned to the body shop: both go in the claim letter.
    inspection_hours = pw.CharField(max_length=300, null=True, verbose_name=_l("Orari per la visione del veicolo"))
    iban = pw.CharField(max_length=34, null=True, verbose_name=_l("IBAN"))
    active = pw.BooleanField(default=True, verbose_name=_l("Attivo"))

    def validate(self) -> None:
        self.vat_number = validators.vat_number(self.vat_number, "vat_number")
        if self.iban:
            self.iban = validators.iban(self.iban, "iban")
        if self.fiscal_code:
            self.fiscal_code = validators.fiscal_code(self.fiscal_code, "fiscal_code")
        self._clean_contacts()

    def __str__(self) -> str:
        return self.name


class Lawyer(ValidatedModel):
    KINDS = (
        ("lawyer", _l("Avvocato")),
        ("firm", _l("Studio / società di recupero")),
        ("centre_desk", _l("Centro ASP (auto-affidamento)")),
    )

    name = pw.CharField(max_length=200, verbose_name=_l("Nome o studio"))
    kind = pw.CharField(max_length=20, choices=KINDS, default="lawyer", verbose_name=_l("Tipo"))
    email = pw.CharField(max_length=254, verbose_name=_l("E-mail"))
    pec = pw.CharField(max_length=254, null=True, verbose_name=_l("PEC"))
    tax_code = pw.CharField(max_length=16, null=True, verbose_name=_l("Codice fiscale o partita IVA"))
    address = pw.CharField(max_length=300, null=True, verbose_name=_l("Indirizzo dello studio"))
    # Set only on a centre's own desk, the lawyer a centre entrusts to itself.
    own_centre = pw.ForeignKeyField(
        AspCentre, null=True, unique=True, backref="own_desk", on_delete="CASCADE",
        verbose_name=_l("Centro ASP (sportello proprio)"),
    )
    active = pw.BooleanField(default=True, verbose_name=_l("Attivo"))

    unique_messages = {"own_centre": _l("Questo Centro ASP ha già il suo sportello.")}

    def validate(self) -> None:
        if self.tax_code:
            self.tax_code = validators.fiscal_code(self.tax_code, "tax_code")
        if self.own_centre_id and self.kind != "centre_desk":
            raise validators.InvalidValue("kind", _l("Lo sportello di un Centro ASP deve essere di tipo auto-affidamento."))
        self._clean_contacts()

    def __str__(self) -> str:
        return self.name


class LawyerCentre(BaseModel):
    """The ASP centres a lawyer works for."""

    lawyer = pw.ForeignKeyField(Lawyer, backref="centre_links", on_delete="CASCADE")
    asp_centre = pw.ForeignKeyField(AspCentre, backref="lawyer_links", on_delete="CASCADE")

    class Meta:
        indexes = ((("lawyer", "asp_centre"), True),)


class InsuranceCompany(ValidatedModel):
    unique_messages = {"name": _l("Esiste già una compagnia con questa denominazione.")}

    name = pw.CharField(max_length=200, unique=True, verbose_name=_l("Denominazione"))
    claims_email = pw.CharField(max_length=254, null=True, verbose_name=_l("E-mail ufficio sinistri"))
    claims_pec = pw.CharField(max_length=254, null=True, verbose_name=_l("PEC ufficio sinistri"))
    # The claims office's postal address, for the letter and the raccomandata's envelope.
    claims_address = pw.CharField(max_length=300, null=True, verbose_name=_l("Indirizzo ufficio sinistri"))
    active = pw.BooleanField(default=True, verbose_name=_l("Attiva"))

    def validate(self) -> None:
        self._clean_contacts()

    def __str__(self) -> str:
        return self.name
