"""A list page's rows drawn straight from their values, with what every row shares worked
out once per page (`templates/admin/claim_list.html`, block `list_row`).

Flask-Admin draws each cell through `get_list_value` and each row's icons through a macro
that builds its links with `url_for`: on a page of 100 claims that is some 1,500 cells
and 300 links made one by one. Here the links come from one URL per page with the row's
id put in, and a cell's value goes through the same steps as Flask-Admin's (the column's
formatter, its choices, the formatter of its value's type), looked up once per column
and per type rather than once per cell. The template escapes what is not Markup, as
Flask-Admin's does.

A column whose cell depends only on a few of the row's values (a state's badge, a
deadline's level, a number of days) says so with `by_value` or `by_key`: the process draws
it once for each distinct value, view and language and reuses the text on every page
(`KEPT_CELLS`, at most `MAX_KEPT_CELLS`), so its translated words and dates are looked up
once rather than once a row.
"""
from __future__ import annotations

import operator
import typing as t

from flask import g
from flask_admin.babel import gettext as admin_gettext
from flask_admin.model import template as row_templates
from flask_babel import get_locale
from jinja2 import pass_context
from markupsafe import Markup, escape

ROW_ID = "0rowid0"  # stands for a row's id in a page's link, then is replaced by it

# (view, column, language, key) -> the cell of a column marked by_key, for every page of the process
KEPT_CELLS: dict[tuple, object] = {}
MAX_KEPT_CELLS = 20_000  # days, dates with their kind, states, levels: a few thousand in practice


def row_link(view, endpoint: str, **kwargs) -> t.Callable[[object], str]:
    """pk -> `view.get_url(endpoint, id=pk, **kwargs)`, with `url_for` run once, not per row."""
    url = view.get_url(endpoint, id=ROW_ID, **kwargs)
    head, found, tail = url.partition(f"id={ROW_ID}")
    if not found:  # the id is not a query argument of this endpoint: built row by row
        return lambda pk: view.get_url(endpoint, id=pk, **kwargs)
    return lambda pk: f"{head}id={pk}{tail}" if type(pk) is int else view.get_url(endpoint, id=pk, **kwargs)


def by_key(key: t.Callable[[object], t.Hashable]):
    """Mark a column formatter `(view, context, row, name)` whose cell is the same for every
    row with the same `key(row)` in the same language, on any page and any day (what the cell
    depends on is in the key: a number of days, not the date it counts from): drawn once per
    key, view and language (`KEPT_CELLS`)."""
    def mark(formatter):
        formatter.cell_key = key
        return formatter
    return mark


def by_value(*names: str):
    """`by_key` on the row's values `names` (`by_value("status")`)."""
    return by_key(operator.attrgetter(*names))


def row_url(view, endpoint: str, pk) -> str:
    """`view.get_url(endpoint, id=pk)` for a cell's link, with `url_for` run once per request
    for each view and endpoint."""
    links = g.setdefault("gessin_row_links", {})
    link = links.get((view.endpoint, endpoint))
    if link is None:
        link = links[(view.endpoint, endpoint)] = row_link(view, endpoint)
    return link(pk)


class RowButton(t.NamedTuple):
    """One icon of a row's buttons column: a link drawn by the row template, or (`link` None)
    an action Flask-Admin draws itself."""
    action: object
    link: t.Callable[[object], str] | None = None
    icon: str = ""


# The icons of Flask-Admin's own row actions (admin/model/row_actions.html), as links to their pages.
LINKED_ACTIONS = {
    row_templates.ViewRowAction: (".details_view", "fa fa-eye glyphicon glyphicon-eye-open"),
    row_templates.EditRowAction: (".edit_view", "fa fa-pencil glyphicon glyphicon-pencil"),
}


class PageRows:
    """What the rows of one list page share: the checkbox's title, the row buttons' links,
    and each column's way to its cell; `row(row)` draws a row's cells, as Flask-Admin's
    `list_row` block would, in one call from the template."""

    def __init__(self, view, return_url: str, row_actions: list, columns=(), with_checkbox: bool = False):
        self.view = view
        self.columns = [name for name, _label in columns]
        self.with_checkbox = with_checkbox
        self.select_title = admin_gettext("Select record")
        self.buttons = []
        for action in row_actions:
            endpoint, icon = LINKED_ACTIONS.get(type(action), (None, ""))
            link = row_link(view, endpoint, url=return_url) if endpoint else None
            self.buttons.append(RowButton(action, link, icon))
        self.formatters = view.column_formatters or {}
        self.choices = {name: dict(choices) for name, choices in (view.column_choices or {}).items()}
        self.type_formatters = view.column_type_formatters or {}
        self.by_type: dict[type, t.Callable | None] = {}
        self.cells: dict[str, t.Callable] = {}  # column -> (context, row) -> its cell, the way chosen once

    @pass_context
    def row(self, context, row) -> Markup:
        """A row's cells: the checkbox, the buttons, a cell per column (escaped unless Markup)."""
        pk = self.view.get_pk_value(row)
        parts = []
        if self.with_checkbox:
            parts.append(f'<td><input type="checkbox" name="rowid" class="action-checkbox" value="{escape(pk)}" '
                         f'title="{escape(self.select_title)}" /></td>')
        if self.view.column_display_actions:
            parts.append('<td class="list-buttons-column">')
            for button in self.buttons:
                if button.link is None:
                    parts.append(str(escape(button.action.render_ctx(context, pk, row))))
                else:
                    parts.append(f'<a class="icon" href="{escape(button.link(pk))}" '
                                 f'title="{escape(button.action.title or "")}"><span class="{button.icon}"></span></a>')
            parts.append("</td>")
        for name in self.columns:
            parts.append(f'<td class="col-{name}">{escape(self.cell(context, row, name))}</td>')
        return Markup("".join(parts))

    @pass_context
    def cell(self, context, row, name: str):
        """What Flask-Admin's `get_list_value(context, row, name)` gives, by the same steps."""
        draw = self.cells.get(name)
        if draw is None:
            draw = self.cells[name] = self.way_to(name)
        return draw(context, row)

    def way_to(self, name: str) -> t.Callable:
        """The function (context, row) -> the cell of column `name`: its formatter or its value,
        its choices, the formatter of the value's type; a column marked by_key once per key."""
        view, formatter, choices = self.view, self.formatters.get(name), self.choices.get(name)
        if formatter is None and "." in name:
            return lambda context, row: view.get_list_value(context, row, name)

        def draw(context, row):
            value = formatter(view, context, row, name) if formatter is not None else getattr(row, name, None)
            if choices:
                return choices.get(value) or value
            return self.typed(value, name)

        key_of = getattr(formatter, "cell_key", None)
        if key_of is None:
            return draw
        where = (view.endpoint, name, str(get_locale()))

        def drawn_once(context, row):
            key = (*where, key_of(row))
            cell = KEPT_CELLS.get(key)
            if cell is None:
                cell = draw(context, row)
                if len(KEPT_CELLS) >= MAX_KEPT_CELLS:
                    KEPT_CELLS.clear()
                KEPT_CELLS[key] = cell
            return cell
        return drawn_once

    def typed(self, value, name: str):
        """`value` through the first type formatter that takes it, as Flask-Admin picks it."""
        kind = type(value)
        if kind not in self.by_type:
            self.by_type[kind] = next((fmt for typeobj, fmt in self.type_formatters.items()
                                       if isinstance(value, typeobj)), None)
        type_formatter = self.by_type[kind]
        if type_formatter is None:
            return value
        try:
            return type_formatter(self.view, value, name)
        except TypeError:
            return type_formatter(self.view, value)


def forget_cells() -> None:
    """Forget the kept cells (a test that changes what a formatter draws)."""
    KEPT_CELLS.clear()
