"""The claims grids' next-deadline columns and filters (the rule is `workflows.next_due`'s).

Cells read the stored `next_due_on`, `next_due_kind` and `next_warn_on` of the row: no
query. Filters and sorts are conditions on those indexed columns, never a row-by-row
computation.
"""
from __future__ import annotations

import datetime as dt

from flask import g
from flask_admin.contrib.peewee.filters import BasePeeweeFilter
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from models import Claim
from workflows import clock, dates, deadlines, next_due

from .filters import ChoiceFilter, DateBetweenFilter
from .list_rows import by_key, by_value


def today() -> dt.date:
    """Rome's date, read once per request: a page's rows, filters and menu counts agree on it."""
    if "gessin_today" not in g:
        g.gessin_today = clock.today()
    return g.gessin_today


def days_left(due: dt.date | None, on: dt.date) -> int | None:
    return None if due is None else (due - on).days


def days_left_text(due: dt.date | None, on: dt.date) -> str:
    """'3 giorni', 'scade oggi', 'scaduta da 2 giorni'; '' without a deadline."""
    days = days_left(due, on)
    if days is None:
        return ""
    if days == 0:
        return gettext("scade oggi")
    if days < 0:
        return ngettext("scaduta da %(num)d giorno", "scaduta da %(num)d giorni", -days)
    return ngettext("%(num)d giorno", "%(num)d giorni", days)


def level_badge(level: str | None) -> Markup:
    """The level as a badge, in the state badge's markup and colours of `next_due.LEVEL_BADGES`."""
    if level is None:
        return Markup("")
    return Markup(f'<span class="badge badge-{next_due.LEVEL_BADGES[level]} level-{level}">'
                  f'{escape(str(next_due.LEVEL_LABELS[level]))}</span>')


def kind_label(kind: str | None) -> str:
    return str(next_due.KIND_LABELS.get(kind, kind or ""))


def level_of(claim) -> str | None:
    return next_due.level_of(claim.next_due_on, claim.next_warn_on, today())


def next_due_cell(view, context, claim, name) -> Markup:
    """The date, and under it what falls due (with the same words as a title)."""
    if claim.next_due_on is None:
        return Markup("")
    kind = escape(kind_label(claim.next_due_kind))
    return Markup(f'<span class="next-due" title="{kind}">{dates.format_date(claim.next_due_on)}</span><br>'
                  f'<small class="text-muted next-due-kind">{kind}</small>')


# A page draws each cell once per what it shows (list_rows.by_key): a date and its kind, a number
# of days, a level.
FORMATTERS = {
    "next_due_on": by_value("next_due_on", "next_due_kind")(next_due_cell),
    "days_left": by_key(lambda claim: days_left(claim.next_due_on, today()))(
        lambda v, c, claim, n: days_left_text(claim.next_due_on, today())),
    "level": by_key(level_of)(lambda v, c, claim, n: level_badge(level_of(claim))),
}
EXPORT_FORMATTERS = {
    "next_due_on": lambda v, c, claim, n: claim.next_due_on,
    "next_due_kind": lambda v, c, claim, n: kind_label(claim.next_due_kind),
    "days_left": lambda v, c, claim, n: days_left(claim.next_due_on, today()),
    "level": lambda v, c, claim, n: str(next_due.LEVEL_LABELS.get(level_of(claim), "")),
}
LABELS = {
    "next_due_on": _l("Prossima scadenza"),
    "next_due_kind": _l("Tipo di scadenza"),
    "days_left": _l("Giorni rimasti"),
    "level": _l("Livello"),
}
COLUMNS = ("next_due_on", "days_left", "level")
FIELDS = (Claim.next_due_on, Claim.next_due_kind, Claim.next_warn_on)  # what the columns' cells read
# Each sorts by the date (the level follows it: overdue, then due soon, then in time);
# claims without a deadline come last in both directions.
SORTABLE = tuple((name, Claim.next_due_on) for name in COLUMNS)


class LevelFilter(BasePeeweeFilter):
    """The claims whose next deadline is at a level today (`next_due.level_clause`)."""

    def __init__(self, name):
        super().__init__(Claim.next_due_on, name, options=list(next_due.LEVEL_LABELS.items()))

    def clean(self, value):
        if value not in next_due.LEVEL_LABELS:
            raise ValueError(value)  # Flask-Admin then says the value is not valid
        return value

    def apply(self, query, value):
        return query.where(next_due.level_clause(value, today()))

    def operation(self):
        return _l("uguale a")


def filters() -> tuple:
    return (
        LevelFilter(_l("Livello scadenza")),
        DateBetweenFilter(Claim.next_due_on, _l("Prossima scadenza")),
        ChoiceFilter(Claim.next_due_kind, _l("Tipo di scadenza"),
                     options=[(kind, label) for kind, label in next_due.KIND_LABELS.items()
                              if kind != deadlines.SUIT]),  # a date from which to act, never "next"
    )
