"""Field validators shared by the models, the admin forms and the intake schema.

Each returns the value in its canonical form or raises `InvalidValue` with an
Italian message; python-stdnum does the checksum work.
"""
from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from stdnum import iban as stdnum_iban
from stdnum.it import codicefiscale, iva


class InvalidValue(ValueError):
    def __init__(self, field: str, message):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def vat_number(value: str, field: str = "vat_number") -> str:
    """An Italian partita IVA: 11 digits with a valid check digit."""
    try:
        return iva.validate(value)
    except Exception:
        raise InvalidValue(field, _l("Partita IVA non valida: %(value)s", value=value))


def fiscal_code(value: str, field: str = "fiscal_code") -> str:
    """A codice fiscale of a person (16 characters) or of a company (11 digits)."""
    try:
        compact = codicefiscale.compact(value)
        if len(compact) == 11:
            return iva.validate(compact)
        return codicefiscale.validate(compact)
    except Exception:
        raise InvalidValue(field, _l("Codice fiscale non valido: %(value)s", value=value))


def iban(value: str, field: str = "iban") -> str:
    """An IBAN (any country), with its check digits verified; kept compact, upper case."""
    try:
        return stdnum_iban.validate(value)
    except Exception:
        raise InvalidValue(field, _l("IBAN non valido: %(value)s", value=value))


def email(value: str, field: str = "email") -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidValue(field, _l("Indirizzo e-mail non valido: %(value)s", value=value))


# Current Italian plates (AA123AA, since 1994), older provincial ones (e.g. MI123456,
# ROMA12345A), motorcycles (AA12345), and San Marino / Vatican plates.
_PLATE_PATTERNS = [
    re.compile(r"^[A-HJ-NPR-Z]{2}\d{3}[A-HJ-NPR-Z]{2}$"),
    re.compile(r"^[A-HJ-NPR-Z]{2}\d{5}$"),
    re.compile(r"^[A-Z]{2,4}\d{4,6}[A-Z0-9]?$"),
    re.compile(r"^RSM\d{1,5}$|^[A-Z]\d{4,5}$"),
    re.compile(r"^(SCV|CV)\d{1,5}$"),
]
_FOREIGN_PLATE = re.compile(r"^[A-Z0-9]{2,10}$")


def normalise_plate(value: str) -> str:
    return re.sub(r"[\s\-.]", "", value or "").upper()


def plate(value: str, country: str = "I", field: str = "plate") -> str:
    """A vehicle plate; Italian, San Marino and Vatican plates are checked by shape."""
    compact = normalise_plate(value)
    country = (country or "I").upper()
    patterns = _PLATE_PATTERNS if country in ("I", "IT", "RSM", "SM", "V", "VA") else [_FOREIGN_PLATE]
    if not any(p.match(compact) for p in patterns):
        raise InvalidValue(field, _l("Targa non valida: %(value)s", value=value))
    return compact
