"""Cell formatters shared by the grids."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import format_date, format_datetime, format_decimal, ngettext
from markupsafe import Markup, escape

from models import ClaimStatus, utcnow


def status_badge(status: str) -> Markup:
    colour = ClaimStatus.BADGES.get(status, "secondary")
    label = ClaimStatus.LABELS.get(status, status)
    return Markup(f'<span class="badge badge-{colour} status-{escape(status)}">{escape(str(label))}</span>')


def days_since(moment) -> str:
    if moment is None:
        return ""
    days = (utcnow() - moment).days
    return ngettext("%(num)d giorno", "%(num)d giorni", days)


def euro(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    return "€ " + format_decimal(amount, format="#,##0.00")


def when(moment) -> str:
    if moment is None:
        return ""
    if hasattr(moment, "hour"):
        return format_datetime(moment, format="short")
    return format_date(moment, format="short")


def column(fn):
    """Adapt a value formatter to Flask-Admin's (view, context, model, name) signature."""
    return lambda view, context, model, name: fn(getattr(model, name))
