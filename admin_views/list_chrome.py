"""A list page's header row and pager drawn in one call each (`templates/admin/claim_list.html`,
blocks `list_header` and `list_pager`), as Flask-Admin's `admin/model/list.html` and the pager
macros of its `admin/lib.html` draw them.

Flask-Admin builds each sort link and each page link with its own `url_for` and runs its
macros and translated words once per column: on a grid of thirteen columns that is some
twenty links and forty words per page. Here the links come from the page's own `sort_url`
and `pager_url` called once with a placeholder, then filled in, like the rows' links
(`list_rows.row_link`); the markup is the same.
"""
from __future__ import annotations

import typing as t

from flask_admin.babel import gettext as admin_gettext
from markupsafe import Markup, escape

PLACEHOLDER = "0arg0"  # stands for a sort column or a page number in a link, then is replaced by it


def filled(make: t.Callable[[object], str]) -> t.Callable[[object], str]:
    """value -> `make(value)`, with `make` (which runs `url_for`) called once, for a placeholder."""
    url = make(PLACEHOLDER)
    if url.count(PLACEHOLDER) != 1:  # not a plain query argument: built one by one
        return make
    head, _, tail = url.partition(PLACEHOLDER)
    return lambda value: f"{head}{value}{tail}"


def link(href: str, text) -> str:
    return f'<li class="page-item"><a class="page-link" href="{escape(href)}">{text}</a></li>'


def off(text, href: str = "javascript:void(0)") -> str:
    return f'<li class="page-item disabled"><a class="page-link" href="{escape(href)}">{text}</a></li>'


class PageChrome:
    """The header and pager of one list page, from what Flask-Admin's `index_view` hands its
    template (`render` kwargs)."""

    def __init__(self, view, page: dict):
        self.view = view
        self.columns = [(name, str(label)) for name, label in page.get("list_columns", ())]
        self.with_checkbox = bool(page.get("actions"))
        self.sort_column, self.sort_desc = page.get("sort_column"), page.get("sort_desc")
        self.sort_url = page["sort_url"]
        self.pager_url = page["pager_url"]
        self.page, self.num_pages = page.get("page") or 0, page.get("num_pages")
        self.has_next = len(page.get("data") or ()) == page.get("page_size")

    def header(self) -> Markup:
        """The `<th>` cells of Flask-Admin's `list_header` block."""
        view, parts = self.view, []
        if self.with_checkbox:
            parts.append(f'<th class="list-checkbox-column"><input type="checkbox" name="rowtoggle" '
                         f'class="action-rowtoggle" title="{escape(admin_gettext("Select all records"))}" /></th>')
        if view.column_display_actions:
            parts.append('<th class="">&nbsp;</th>')
        sorted_by = filled(self.sort_url)
        descriptions = view.column_descriptions or {}
        for index, (name, label) in enumerate(self.columns):
            parts.append(f'<th class="column-header col-{escape(name.replace(".", "-"))}">')
            if view.is_sortable(name):
                title = escape(admin_gettext("Sort by %(name)s", name=label))
                if index == self.sort_column:
                    arrow = "down" if self.sort_desc else "up"
                    parts.append(f'<a href="{escape(self.sort_url(index, True))}" title="{title}">{escape(label)}'
                                 f'<span class="fa fa-chevron-{arrow} glyphicon glyphicon-chevron-{arrow}"></span></a>')
                else:
                    parts.append(f'<a href="{escape(sorted_by(index))}" title="{title}">{escape(label)}</a>')
            else:
                parts.append(str(escape(label)))
            if descriptions.get(name):
                parts.append(f'<a class="fa fa-question-circle glyphicon glyphicon-question-sign" '
                             f'title="{escape(descriptions[name])}" href="javascript:void(0)" data-role="tooltip"></a>')
            parts.append("</th>")
        return Markup("".join(parts))

    def pager(self) -> Markup:
        """Flask-Admin's `lib.pager` (the list counted) or `lib.simple_pager` (it was not)."""
        first = self.pager_url(0)
        others = filled(self.pager_url)

        def url(number: int) -> str:
            return first if number == 0 else others(number)
        page, pages = self.page, self.num_pages
        if pages is None:
            return Markup('<ul class="pagination">'
                          + (link(url(page - 1), "&lt;") if page > 0 else off("&lt;", url(0)))
                          + (link(url(page + 1), "&gt;") if self.has_next else off("&gt;", url(page)))
                          + "</ul>")
        if pages <= 1:
            return Markup("")
        low, high = page - 3, page + 4  # the pages listed around this one, as lib.pager picks them
        if low < 0:
            high -= low
        if high >= pages:
            low -= high - pages
        low, high = max(low, 0), min(high, pages)
        parts = ['<ul class="pagination">',
                 link(url(0), "&laquo;") if low > 0 else off("&laquo;"),
                 link(url(page - 1), "&lt;") if page > 0 else off("&lt;")]
        for number in range(low, high):
            parts.append(f'<li class="page-item active"><a class="page-link" href="javascript:void(0)">{number + 1}</a></li>'
                         if number == page else link(url(number), number + 1))
        parts += [link(url(page + 1), "&gt;") if page + 1 < pages else off("&gt;"),
                  link(url(pages - 1), "&raquo;") if high < pages else off("&raquo;"), "</ul>"]
        return Markup("".join(parts))
