"""Reading the data that comes with an event: text, a date typed the Italian way, a tick."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from . import clock, dates
from .errors import InvalidData


def text(value) -> str | None:
    value = (value or "").strip() if isinstance(value, str) else value
    return value or None


def date(value, name: str, label) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str) and value.strip():
        try:
            value = dates.parse_date(value)
        except dates.InvalidDate as exc:
            raise InvalidData(_l("%(field)s: %(reason)s", field=label, reason=exc.message), name)
    if not isinstance(value, dt.date):
        raise InvalidData(_l("%(field)s: indica la data.", field=label), name)
    if value > clock.today():
        raise InvalidData(_l("%(field)s: la data non può essere nel futuro.", field=label), name)
    return value


def flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "y", "yes", "on", "true", "si", "sì")
    return bool(value)
