"""Numbers in the grids' forms are refused when their column cannot store them.

wtf-peewee bounds text by its column's length but not numbers by their column's range:
a huge amount or count used to reach PostgreSQL and answer 500 (SQLite stored it).
"""
from __future__ import annotations

from decimal import Decimal

import peewee as pw
from flask_babel import gettext as _
from wtforms.validators import ValidationError

# Largest magnitude of each integer column type (PostgreSQL smallint, integer, bigint).
_INTEGER_LIMITS = ((pw.SmallIntegerField, 2**15 - 1), (pw.BigIntegerField, 2**63 - 1), (pw.IntegerField, 2**31 - 1))


def column_limit(column: pw.Field) -> int | Decimal | None:
    """The largest magnitude `column` holds, or None if it is not a number column with a limit."""
    if isinstance(column, pw.DecimalField) and column.max_digits:
        places = column.decimal_places or 0
        return Decimal(10) ** (column.max_digits - places) - Decimal(10) ** -places
    for kind, limit in _INTEGER_LIMITS:
        if isinstance(column, kind) and not isinstance(column, pw.AutoField):
            return limit
    return None


class FitsColumn:
    """A form validator: the number entered fits its column."""

    def __init__(self, limit):
        self.limit = limit

    def __call__(self, form, field):
        value = field.data
        if value is None or isinstance(value, str):
            return
        if isinstance(value, Decimal) and not value.is_finite() or abs(value) > self.limit:
            # gettext, not lazy: Flask-Admin's form template shows only `str` errors
            raise ValidationError(_("Valore troppo grande per questo campo."))


def with_column_limits(model, form_args: dict | None) -> dict:
    """`form_args` (Flask-Admin's documented setting) with a FitsColumn validator on every number column."""
    args = {name: dict(value) for name, value in (form_args or {}).items()}
    for column in model._meta.sorted_fields:
        limit = column_limit(column)
        if limit is not None:
            entry = args.setdefault(column.name, {})
            entry["validators"] = [FitsColumn(limit), *entry.get("validators", ())]
    return args
