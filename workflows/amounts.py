"""Amounts typed the Italian way, read by one parser for every form: never a silent change of magnitude.

"1.500" is one thousand five hundred, "1.500,00" too; "1,50" is one and a half. Babel reads
the Italian grouping in strict mode; this module adds what strict mode lets through and a
person would not mean: exponents ("1e3"), NaN, digits of other scripts, more decimals than
the column keeps ("1,500" is 1,5 to Babel, but whoever typed it may mean 1.500). A dot
that cannot be a thousands separator ("1.5", "1500.00") is refused with the readings it
could have, never guessed. Values that are already numbers (Decimal, int: the API, the
demo data) are only checked against the column.
"""
from __future__ import annotations

import re
from decimal import Decimal

import peewee as pw
from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask_babel import lazy_gettext as _l

from .errors import InvalidData

LOCALE = "it_IT"
_CURRENCY = re.compile(r"^(?:€|eur)\s*|\s*(?:€|eur)$", re.IGNORECASE)
_SPACE_BETWEEN_DIGITS = re.compile(r"(?<=\d)[ \u00a0\u202f\u2009](?=\d)")  # "1 500", "1\u00a0500": grouping
_SHAPE = re.compile(r"[+-]?[0-9.,]+")
_DOT_ONLY = re.compile(r"([+-]?)(\d+)\.(\d+)")


class InvalidAmount(InvalidData):
    """An amount that is not one, or not one this column can hold; the message says why."""


def italian(amount: Decimal) -> str:
    """`amount` the Italian way, "1.500,00": for stored text (history notes) and form inputs."""
    return format_decimal(amount, format="#,##0.00", locale=LOCALE)


def largest(column: pw.DecimalField) -> Decimal:
    places = column.decimal_places
    return Decimal(10) ** (column.max_digits - places) - Decimal(10) ** -places


def parse_amount(value, column: pw.DecimalField, *, zero_allowed: bool = False, field: str = "amount") -> Decimal:
    """The amount in `value` (text typed the Italian way, or a number) that `column` can hold.

    Raises InvalidAmount, naming `field`, with an Italian message that quotes what was typed.
    """
    places = column.decimal_places
    if isinstance(value, str):
        amount = _read_text(value, places, field)
    elif isinstance(value, (Decimal, int)) and not isinstance(value, bool) and Decimal(value).is_finite():
        amount = Decimal(value)
    else:
        raise InvalidAmount(_l("Indica l'importo.") if value is None else _l("Importo non valido."), field)
    if amount < 0 or (amount == 0 and not zero_allowed):
        raise InvalidAmount(_l("L'importo non può essere negativo.") if zero_allowed
                            else _l("L'importo deve essere maggiore di zero."), field)
    if amount > largest(column):
        raise InvalidAmount(_l("Importo troppo grande: al massimo € %(largest)s.", largest=italian(largest(column))),
                            field)
    cents = amount.quantize(Decimal(10) ** -places)
    if cents != amount:  # a number with fractions of a cent (text is checked as typed, above)
        raise InvalidAmount(_l("L'importo può avere al massimo due decimali."), field)
    return cents


def _read_text(value: str, places: int, field: str) -> Decimal:
    typed = value.strip()
    text = _SPACE_BETWEEN_DIGITS.sub(".", _CURRENCY.sub("", typed).strip())
    if not text:
        raise InvalidAmount(_l("Indica l'importo."), field)
    if not _SHAPE.fullmatch(text) or text.count(",") > 1:
        raise InvalidAmount(_l("«%(text)s» non è un importo: scrivi le cifre, con il punto per le migliaia e "
                               "la virgola per i decimali (per esempio 1.500,00).", text=typed), field)
    try:
        amount = parse_decimal(text, locale=LOCALE, strict=True)
    except NumberFormatError:
        raise InvalidAmount(_unclear(typed, text, places), field)
    if amount.as_tuple().exponent < -places:  # decimals as typed: "1,500" is not quietly 1,50
        raise InvalidAmount(_too_many_decimals(typed, text, places), field)
    return amount


def _unclear(typed: str, text: str, places: int):
    """A dot where Italian grouping cannot have one: say the readings it could have."""
    dot = _DOT_ONLY.fullmatch(text)
    readings = []
    if dot:
        sign, whole, decimals = dot.groups()
        if len(decimals) <= places:
            readings.append(sign + italian(Decimal(f"{whole}.{decimals}")))
        if len(whole) <= 3 and len(decimals) < 3:  # "1.5" may be 1.5 thousand with the zeros left out
            readings.append(sign + format_decimal(int(whole + decimals.ljust(3, "0")), locale=LOCALE))
    if len(readings) == 2:
        return _l("«%(text)s» non è un importo chiaro: scrivi %(first)s oppure %(second)s.", text=typed,
                  first=readings[0], second=readings[1])
    if readings:
        return _l("«%(text)s» non è un importo chiaro: il punto separa le migliaia; scrivi %(first)s.",
                  text=typed, first=readings[0])
    return _l("«%(text)s» non è un importo chiaro: il punto separa le migliaia, a gruppi di tre cifre, e la "
              "virgola i decimali (per esempio 1.500,00).", text=typed)


def _too_many_decimals(typed: str, text: str, places: int):
    whole, _, decimals = text.partition(",")
    if "." not in whole and len(decimals) == 3 and len(whole.lstrip("+-")) <= 3:  # "1,500": a thousands comma?
        return _l("«%(text)s» ha più di %(places)d decimali; per le migliaia si usa il punto: %(thousands)s.",
                  text=typed, places=places, thousands=format_decimal(int(whole + decimals), locale=LOCALE))
    return _l("«%(text)s» ha più di %(places)d decimali.", text=typed, places=places)
