"""Dates as Italians type and read them: one parser and one formatter for every page.

Typed: `12/10/2026` (also `12.10.2026`, `12-10-2026`, `1/2/2026`) and ISO `2026-10-12`
(what a browser's date input and an API send). A two-digit year is refused rather than
guessed (`12/10/26` could be 1926 or 2026), and so is a day the calendar lacks
(`31/02/2026`). Shown: `12/10/2026`, and a moment as `12/10/2026 14:30`, Rome time.

Stored moments are naive UTC (`models.utcnow`); the conversion to Rome time uses the
time zone database directly, so an e-mail rendered by the worker, with no request and
no Flask-Babel, shows the same hour as the grid.
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

ROME = ZoneInfo("Europe/Rome")
DATE_FORMAT = "%d/%m/%Y"
MOMENT_FORMAT = "%d/%m/%Y %H:%M"

_DAY_FIRST = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d+)")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


class InvalidDate(ValueError):
    """Text that is not a date; `message` says why, in Italian, without the field's name."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def parse_date(text: str) -> dt.date:
    """The date `text` stands for (gg/mm/aaaa or ISO), else InvalidDate with the reason."""
    text = (text or "").strip()
    day_first, iso = _DAY_FIRST.fullmatch(text), _ISO.fullmatch(text)
    if day_first:
        day, month, year = day_first.group(1), day_first.group(3), day_first.group(4)
        if len(year) != 4:
            raise InvalidDate(_l("scrivi l'anno con quattro cifre (gg/mm/aaaa, per esempio 12/10/2026)."))
    elif iso:
        year, month, day = iso.groups()
    else:
        raise InvalidDate(_l("scrivi la data come gg/mm/aaaa (per esempio 12/10/2026)."))
    if int(year) < 1900:  # a typing slip (0026 for 2026); nothing in a claim is older
        raise InvalidDate(_l("scrivi una data dal 1900 in poi (gg/mm/aaaa)."))
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise InvalidDate(_l("il %(text)s non esiste nel calendario.", text=text)) from None


def to_rome(moment: dt.datetime) -> dt.datetime:
    """A stored moment (naive means UTC) as Rome's wall-clock time, summer time included."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ROME)


def rome_day_start(day: dt.date) -> dt.datetime:
    """Midnight of `day` in Rome, as a naive UTC moment comparable with the stored ones."""
    return dt.datetime.combine(day, dt.time(), tzinfo=ROME).astimezone(dt.UTC).replace(tzinfo=None)


def format_date(value) -> str:
    """`12/10/2026`; a moment is shown as its Rome date. None gives ''."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = to_rome(value)
    return value.strftime(DATE_FORMAT)


def format_moment(value) -> str:
    """`12/10/2026 14:30`, Rome time; a plain date is shown as a date. None gives ''."""
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        return format_date(value)
    return to_rome(value).strftime(MOMENT_FORMAT)
