"""The grids' filters: scoped drop-downs, fixed choices, several states, portal numbers and
Italian date ranges."""
from __future__ import annotations

import datetime as dt
import re
import typing as t

import peewee as pw
from flask_admin.contrib.peewee.filters import BasePeeweeFilter, FilterInList
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models import parse_id
from workflows import dates

from .kept import kept


class ScopedOptionsFilter(BasePeeweeFilter):
    """Equality filter whose drop-down lists only what the current user may see."""

    def __init__(self, column, name, options_for_user: t.Callable, **kwargs):
        super().__init__(column, name, **kwargs)
        self.options_for_user = options_for_user

    def apply(self, query, value):
        return query.where(self.column == value)

    def clean(self, value):
        row_id = parse_id(value)
        if row_id is None:
            raise ValueError(value)  # Flask-Admin then ignores the filter
        return row_id

    def operation(self):
        return _l("uguale a")

    def current_options(self):
        """(id, name) of what the current user may see, kept a while (`admin_views/kept.py`)."""
        user = current_user._get_current_object()
        return kept("choices", self.options_for_user,
                    lambda: [(str(row.id), str(row)) for row in self.options_for_user(user)])


class ChoiceFilter(BasePeeweeFilter):
    """Equality filter over a field with fixed choices (e.g. the claim's state)."""

    def apply(self, query, value):
        return query.where(self.column == value)

    def operation(self):
        return _l("uguale a")


class StatesFilter(FilterInList):
    """Several states at once, chosen as tags, and "tutte le aperte" for every open one."""

    OPEN = "open"

    def __init__(self, column, name, states, open_states, **kwargs):
        self.states, self.open_states = dict(states), tuple(open_states)
        options = [(self.OPEN, _l("tutte le aperte"))] + list(self.states.items())
        super().__init__(column, name, options=options, **kwargs)

    def clean(self, value):
        chosen = []
        for code in super().clean(value):
            if code == self.OPEN:
                chosen += self.open_states
            elif code in self.states:
                chosen.append(code)
            else:
                raise ValueError(value)  # Flask-Admin then ignores the filter
        return list(dict.fromkeys(chosen))

    def apply(self, query, value):
        return query.where(self.column.in_(value))

    def operation(self):
        return _l("tra")


class NumbersFilter(FilterInList):
    """Claims by their portal numbers, comma-separated: the link to the claims a bulk action skipped."""

    NUMBER = re.compile(r"\d{4}/\d{6}")

    def clean(self, value):
        numbers = [n for n in super().clean(value) if self.NUMBER.fullmatch(n)]
        if not numbers:
            raise ValueError(value)
        return numbers[:1000]

    def apply(self, query, value):
        return query.where(self.column.in_(value))

    def operation(self):
        return _l("tra")


class DateBetweenFilter(BasePeeweeFilter):
    """Days between two dates, both included, typed or picked as '01/10/2026 - 31/10/2026'.

    Its own `data_type` keeps Flask-Admin's filter script from building an ISO picker
    (it hard-codes YYYY-MM-DD and ' to '): `static/js/dates.js` builds the Italian one.
    """

    PICKER = "gessin-daterange"
    SEPARATORS = re.compile(r"\s+(?:-|–|to|al|a)\s+", re.IGNORECASE)

    def __init__(self, column, name, **kwargs):
        super().__init__(column, name, data_type=self.PICKER, **kwargs)

    def clean(self, value):
        """'01/10/2026 - 31/10/2026' (the Italian picker, or typed with 'al'), or the ISO
        'YYYY-MM-DD to YYYY-MM-DD' of an older link; a ValueError otherwise."""
        parts = self.SEPARATORS.split(value.strip())
        if len(parts) != 2:
            raise ValueError(value)
        start, end = (dates.parse_date(part) for part in parts)
        if end == dt.date.max:  # the day after it, which `apply` needs, does not exist
            raise ValueError(value)
        return start, end

    def validate(self, value):
        try:
            start, end = self.clean(value)
        except ValueError:
            return False
        return start <= end

    def apply(self, query, value):
        start, end = value
        end = end + dt.timedelta(days=1)
        if isinstance(self.column, pw.DateTimeField):  # stored in UTC, the days are Rome's
            start, end = dates.rome_day_start(start), dates.rome_day_start(end)
        return query.where(self.column >= start, self.column < end)

    def operation(self):
        return _l("tra")
