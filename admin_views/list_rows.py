"""A list page's rows drawn straight from their values, with what every row shares worked
out once per page (`templates/admin/claim_list.html`, block `list_row`).

Flask-Admin draws each cell through `get_list_value` and each row's icons through a macro
that builds its links with `url_for`: on a page of 100 claims that is some 1,500 cells
and 300 links made one by one. Here the links come from one URL per page with the row's
id put in, and a cell's value goes through the same steps as Flask-Admin's (the column's
formatter, its choices, the formatter of its value's type), looked up once per column
and per type rather than once per cell. The template escapes what is not Markup, as
Flask-Admin's does.
"""
from __future__ import annotations

import typing as t

from flask_admin.babel import gettext as admin_gettext
from flask_admin.model import template as row_templates
from jinja2 import pass_context

ROW_ID = "0rowid0"  # stands for a row's id in a page's link, then is replaced by it


def row_link(view, endpoint: str, **kwargs) -> t.Callable[[object], str]:
    """pk -> `view.get_url(endpoint, id=pk, **kwargs)`, with `url_for` run once, not per row."""
    url = view.get_url(endpoint, id=ROW_ID, **kwargs)
    head, found, tail = url.partition(f"id={ROW_ID}")
    if not found:  # the id is not a query argument of this endpoint: built row by row
        return lambda pk: view.get_url(endpoint, id=pk, **kwargs)
    return lambda pk: f"{head}id={pk}{tail}" if type(pk) is int else view.get_url(endpoint, id=pk, **kwargs)


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
    and each column's way to its cell."""

    def __init__(self, view, return_url: str, row_actions: list):
        self.view = view
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

    @pass_context
    def cell(self, context, row, name: str):
        """What Flask-Admin's `get_list_value(context, row, name)` gives, by the same steps."""
        formatter = self.formatters.get(name)
        if formatter is not None:
            value = formatter(self.view, context, row, name)
        elif "." in name:
            return self.view.get_list_value(context, row, name)
        else:
            value = getattr(row, name, None)
        choices = self.choices.get(name)
        if choices:
            return choices.get(value) or value
        kind = type(value)
        if kind not in self.by_type:  # the first type formatter that takes the value, as Flask-Admin picks it
            self.by_type[kind] = next((fmt for typeobj, fmt in self.type_formatters.items()
                                       if isinstance(value, typeobj)), None)
        type_formatter = self.by_type[kind]
        if type_formatter is None:
            return value
        try:
            return type_formatter(self.view, value, name)
        except TypeError:
            return type_formatter(self.view, value)
