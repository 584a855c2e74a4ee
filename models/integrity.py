"""The database's refusals (a UNIQUE or CHECK constraint) said as an Italian sentence naming the field.

Models check their unique columns and their CHECK rules before saving
(`ValidatedModel.check_unique`, `validate`), so this is the last line: two users
saving the same partita IVA at the same moment, or a path that skipped `save()`.
SQLite says "UNIQUE constraint failed: repairer.vat_number"; PostgreSQL says
'duplicate key value violates unique constraint "..." DETAIL: Key (vat_number)=(...)
already exists.' (the index's name depends on the migration that made it, so the
column is read from the detail). Neither text is ever shown to a user.
"""
from __future__ import annotations

import re

import peewee as pw
from flask_babel import lazy_gettext as _l

from .validators import InvalidValue

_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (\w+)\.(\w+)")
_POSTGRES_UNIQUE = re.compile(r"unique constraint.*?Key \((\w+)\)=", re.S)


def explain(model: type[pw.Model], exc: pw.IntegrityError) -> InvalidValue:
    """What to tell the user about `exc`, raised while saving a row of `model`."""
    text = str(exc)
    field = _unique_field(model, text)
    if field is not None:
        message = getattr(model, "unique_messages", {}).get(field.name) or _l(
            "Esiste già una scheda con questo valore in «%(field)s».", field=field.verbose_name or field.name)
        return InvalidValue(field.name, message)
    if "check constraint" in text.lower():
        return InvalidValue(None, _l("I valori indicati non sono ammessi: controlla i campi e riprova."))
    if "foreign key" in text.lower():
        return InvalidValue(None, _l("La scheda collegata non esiste più: ricarica la pagina e riprova."))
    return InvalidValue(None, _l("I dati non sono stati salvati: controlla i campi e riprova."))


def _unique_field(model, text: str) -> pw.Field | None:
    table = model._meta.table_name
    found = _SQLITE_UNIQUE.search(text)
    if found and found.group(1) == table:
        return next((f for f in model._meta.sorted_fields if f.column_name == found.group(2)), None)
    found = _POSTGRES_UNIQUE.search(text)
    if found:
        return next((f for f in model._meta.sorted_fields if f.column_name == found.group(1)), None)
    return None
