"""Saying in words what a change of a claim's data changed: "Valutazione WinCar: «—» → «Ordinaria»".

The history is read by people, so each field is named by its Italian label and each
value is written as the claim page shows it. `shown` is the one formatter: swap it for
the app's shared date and amount formatters when they exist.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import peewee as pw
from babel.numbers import format_decimal
from flask_babel import force_locale

from models import Claim


def shown(value) -> str:
    """A value as a clerk reads it: dd/mm/yyyy, € 1.500,00, Sì/No, a party's name, — for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Sì" if value else "No"
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, Decimal):
        return "€ " + format_decimal(value, format="#,##0.00", locale="it_IT")
    return str(value)


def label(name: str) -> str:
    """The Italian label of a Claim column (history rows are written in Italian, whoever reads them)."""
    field = Claim._meta.fields[name]
    with force_locale("it"):
        return str(field.verbose_name or name)


def _value(name: str, value):
    field = Claim._meta.fields[name]
    if isinstance(field, pw.ForeignKeyField) and value is not None and not isinstance(value, pw.Model):
        value = field.rel_model.get_or_none(field.rel_model.id == value)
    if isinstance(field, pw.DecimalField) and value is not None and not isinstance(value, Decimal):
        value = Decimal(str(value))
    return shown(value)


def describe(claim: Claim, changes: dict) -> list[str]:
    """One "Label: «old» → «new»" per changed column, in the model's order; `claim` holds the old values."""
    order = list(Claim._meta.fields)
    lines = []
    for name in sorted(changes, key=order.index):
        old = getattr(claim, name)
        lines.append(f"{label(name)}: «{_value(name, old)}» → «{_value(name, changes[name])}»")
    return lines
