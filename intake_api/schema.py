"""The WinCar intake contract, declared once: validation and the OpenAPI document both use it."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from models import AttachmentKind, validators
from workflows import clock

Text = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=2000)]

_MACHINE_AMOUNT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]{1,2})?")


def _machine_amount(value):
    """An amount sent as text is in machine form, "1520.40": "1.500" is never read as 1,50.

    pydantic would take "1.500" as 1.5 (its decimal places ignore trailing zeros) and
    "1e3" as 1000; a JSON number is a number and is left to pydantic.
    """
    if isinstance(value, str) and not _MACHINE_AMOUNT.fullmatch(value.strip()):
        raise ValueError(f"importo non valido: «{value[:40]}»; scrivere le cifre senza separatore delle "
                         "migliaia e con il punto per i decimali (per esempio 1500.00 o 1.50), "
                         "oppure un numero JSON")
    return value


# Euro, as the claim's MoneyField columns hold them (12 digits, 2 decimals).
Amount = Annotated[Decimal, BeforeValidator(_machine_amount), Field(ge=0, max_digits=12, decimal_places=2)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value):
        """A NUL byte in any text is refused here: PostgreSQL would refuse the row later."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("il testo contiene un carattere NUL (\\u0000) non ammesso")
        return value


class AspCentreRef(Strict):
    """The ASP centre the repairer entrusts the file to (WinCar's table of "Legali")."""

    partita_iva: str = Field(description="Partita IVA del Centro ASP (11 cifre, con cifra di controllo)")
    ragione_sociale: Text = Field(description="Ragione sociale del Centro ASP")

    @field_validator("partita_iva")
    @classmethod
    def _vat(cls, value: str) -> str:
        try:
            return validators.vat_number(value)
        except validators.InvalidValue:
            raise ValueError("partita IVA non valida")


class Customer(Strict):
    name: Text = Field(min_length=1, description="Nome e cognome o ragione sociale del danneggiato")
    fiscal_code: str | None = Field(None, description="Codice fiscale (16 caratteri) o partita IVA")
    phone: Annotated[str, Field(max_length=40)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    address: Annotated[str, Field(max_length=300)] | None = None

    @field_validator("fiscal_code")
    @classmethod
    def _fiscal_code(cls, value):
        if value:
            try:
                return validators.fiscal_code(value)
            except validators.InvalidValue:
                raise ValueError("codice fiscale non valido")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value):
        if value:
            try:
                return validators.email(value)
            except validators.InvalidValue:
                raise ValueError("indirizzo e-mail non valido")
        return value


class Vehicle(Strict):
    plate: Annotated[str, Field(max_length=12)] | None = Field(None, description="Targa")
    country: Annotated[str, Field(max_length=3)] = Field("I", description="Nazione della targa: I, RSM, V o sigla estera")
    insurer: Text | None = Field(None, description="Compagnia di assicurazione del veicolo")
    policy_number: Annotated[str, Field(max_length=40)] | None = None
    driver: Text | None = Field(None, description="Conducente")
    circumstances: list[Annotated[int, Field(ge=1, le=17)]] = Field(
        default_factory=list, max_length=17, description="Caselle barrate delle 17 circostanze del Modulo Blu")

    @model_validator(mode="after")
    def _plate(self):
        if self.plate:
            try:
                self.plate = validators.plate(self.plate, self.country)
            except validators.InvalidValue:
                raise ValueError(f"targa non valida: {self.plate}")
        self.country = (self.country or "I").upper()
        return self


class Injuries(Strict):
    any: bool = Field(False, description="Ci sono feriti")
    persons: LongText | None = Field(None, description="Chi è ferito e come")
    driver_a_only: bool | None = Field(None, description="L'unico ferito è il conducente del veicolo A (il cliente)")
    passengers: bool | None = Field(None, description="Ci sono passeggeri feriti")
    permanent_disability_pct: Annotated[Decimal, Field(ge=0, le=100, decimal_places=1)] | None = Field(
        None, description="Invalidità permanente del conducente del veicolo A, in percentuale")


class Accident(Strict):
    """The joint accident report (Modulo Blu / CAI)."""

    date: dt.date = Field(description="Data del sinistro")
    time: dt.time | None = None
    place: Annotated[str, Field(max_length=300)] | None = None
    vehicle_count: Annotated[int, Field(ge=1, le=20)] = 2
    vehicle_a: Vehicle = Field(description="Veicolo del cliente")
    vehicle_b: Vehicle = Field(description="Veicolo della controparte")
    injuries: Injuries = Field(default_factory=Injuries)
    witnesses: LongText | None = None
    signed_by_both: bool = Field(False, description="Modulo Blu firmato da entrambi i conducenti")

    @field_validator("date")
    @classmethod
    def _not_future(cls, value: dt.date) -> dt.date:
        if value > clock.today():
            raise ValueError("la data del sinistro non può essere nel futuro")
        return value


class AttachmentIn(Strict):
    # Decoded from base64 while the JSON is parsed (in pydantic's core, several times faster).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, val_json_bytes="base64")

    type: Literal[AttachmentKind.ALL] = Field(description="Tipo di documento")  # type: ignore[valid-type]
    filename: Annotated[str, Field(min_length=1, max_length=255)]
    content_base64: bytes = Field(description="Contenuto del file in base64 (PDF, JPEG, PNG o TIFF)",
                                  json_schema_extra={"format": "base64", "contentEncoding": "base64"})

    @field_validator("filename")
    @classmethod
    def _clean_name(cls, value: str) -> str:
        """No paths, no control characters: only the file's own name is kept."""
        name = re.split(r"[\\/]", value)[-1]
        name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
        if not name:
            raise ValueError("nome file non valido")
        return name[:255]


class ClaimIn(Strict):
    event: Literal["nuovo", "seguito"] = Field(description="nuovo: primo invio; seguito: invio successivo")
    wincar_ref: Annotated[str, Field(min_length=1, max_length=64)] = Field(description="Identificativo della pratica in WinCar")
    number: Annotated[str, Field(pattern=r"^\d{4}/\d{6}$")] | None = Field(
        None, description="Numero denuncia web (solo per un seguito, in alternativa a wincar_ref)")
    asp_centre: AspCentreRef
    customer: Customer
    accident: Accident
    estimate_amount: Amount | None = Field(None, description="Importo del preventivo in euro: numero JSON o testo "
                                           "come 1520.40 (punto decimale, senza migliaia)")
    wincar_assessment: Annotated[str, Field(max_length=200)] | None = Field(
        None, description="Prima valutazione di WinCar (indennizzo diretto o procedura ordinaria)")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=50)


class ClaimOut(BaseModel):
    number: str = Field(description="Numero denuncia web, da citare nelle comunicazioni")
    status: str
    status_label: str
    wincar_ref: str | None
    direct_compensation: bool | None
    direct_compensation_reason: str | None
    possible_duplicates: list[str] = Field(description=(
        "Numeri denuncia web di altre pratiche della stessa carrozzeria con una delle stesse targhe "
        "e la stessa data del sinistro: possibili doppi invii da controllare. Le pratiche di altre "
        "carrozzerie non sono mai elencate né contate."))
    attachments_added: int


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = Field(default_factory=list)
