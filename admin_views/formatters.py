"""Cell formatters shared by the grids."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import flash
from flask_babel import format_decimal, gettext, ngettext
from markupsafe import Markup, escape

from models import ClaimStatus, utcnow
from workflows import dates

from .list_rows import by_key


def status_badge(status: str) -> Markup:
    colour = ClaimStatus.BADGES.get(status, "secondary")
    label = ClaimStatus.LABELS.get(status, status)
    return Markup(f'<span class="badge badge-{colour} status-{escape(status)}">{escape(str(label))}</span>')


def days_count(moment) -> int | None:
    return None if moment is None else (utcnow() - moment).days


def days_since(moment) -> str:
    days = days_count(moment)
    return "" if days is None else ngettext("%(num)d giorno", "%(num)d giorni", days)


def days_since_column(name: str):
    """A grid column showing the days since the row's moment `name`, drawn once per number of days."""
    return by_key(lambda row: days_count(getattr(row, name)))(column(days_since))


NOT_READ = object()


def related_name(view, context, row, name: str):
    """A party's cell: its name as the list page read it (`<name>_name`, GessinModelView's
    `list_related_names`), else the party itself, as Flask-Admin would draw it."""
    read = getattr(row, f"{name}_name", NOT_READ)
    return getattr(row, name) if read is NOT_READ else read


def euro(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    return "€ " + format_decimal(amount, format="#,##0.00")


def when(moment) -> str:
    """A date as 12/10/2026, a stored moment as 12/10/2026 14:30 in Rome time (workflows.dates)."""
    return dates.format_moment(moment)


# A cell starting with one of these is read as a formula by Excel and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """An exported cell that a spreadsheet shows as text, never runs (`=HYPERLINK(...)`).

    Text that would start a formula gets a leading apostrophe, as OWASP advises;
    numbers and dates are left as they are (a negative amount is still a number).
    """
    if value is None or isinstance(value, (bool, int, float, Decimal, dt.date, dt.time)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def column(fn):
    """Adapt a value formatter to Flask-Admin's (view, context, model, name) signature."""
    return lambda view, context, model, name: fn(getattr(model, name))


def flash_bulk_result(label, result, shown: int = 5, link_for=None) -> None:
    """Say how many claims took a bulk action, and which were skipped and why: grouped by
    reason, and (`link_for(numbers)`: a grid URL) a link to each group's claims."""
    if result.succeeded:
        flash(ngettext("%(action)s: %(num)d pratica aggiornata.", "%(action)s: %(num)d pratiche aggiornate.",
                       len(result.succeeded), action=label), "success")
    if result.skipped:  # grouped by reason: a count and the first few numbers of each, not 387 lines
        by_reason: dict[str, list[str]] = {}
        for number, reason in result.skipped:
            by_reason.setdefault(reason, []).append(number)
        groups = []
        for reason, numbers in sorted(by_reason.items(), key=lambda item: -len(item[1])):
            listed = ", ".join(numbers[:shown]) + (gettext(" e altre %(num)d", num=len(numbers) - shown)
                                                   if len(numbers) > shown else "")
            url = link_for(numbers) if link_for else None
            group = Markup("{} × {} ({})").format(len(numbers), reason, listed)
            if url:
                group += Markup(' <a href="{}" class="alert-link">{}</a>').format(url, gettext("apri l'elenco"))
            groups.append(group)
        flash(Markup(ngettext("%(num)d pratica saltata: %(lines)s", "%(num)d pratiche saltate: %(lines)s",
                              len(result.skipped), lines=Markup("; ").join(groups))), "warning")
    if not result.succeeded and not result.skipped:
        flash(gettext("Nessuna pratica scelta."), "warning")
