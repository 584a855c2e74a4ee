"""Sistema > Promemoria scadenze: every deadline reminder recorded, for the call centre.

Read-only: the reminders are written by the sweep (workflows/reminders.py) and gathered
into the daily digests; this grid says who was told of which claim's deadline, when it
was found and in which day's digest it went out.
"""
from __future__ import annotations

from flask import g, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from models import AspCentre, DeadlineReminder, Lawyer, Role
from workflows import dates
from workflows.next_due import KIND_LABELS, LEVEL_BADGES, LEVEL_LABELS
from workflows.reminders import CALL_CENTRE

from .filters import ChoiceFilter, DateBetweenFilter
from .formatters import column, when
from .system import ReadOnlyView


def _names(kind: str) -> dict[int, str]:
    """Centre or lawyer names by id, read once per request (one query per kind of party, not per row)."""
    cache = g.setdefault("gessin_reminder_names", {})
    if kind not in cache:
        model = AspCentre if kind == "centre" else Lawyer
        cache[kind] = dict(model.select(model.id, model.name).tuples())
    return cache[kind]


def recipient_label(recipient: str) -> str:
    if recipient == CALL_CENTRE:
        return str(_l("Call center"))
    kind, _, key = recipient.partition(":")
    name = _names(kind).get(int(key)) if key.isdigit() and kind in ("centre", "lawyer") else None
    prefix = _l("Centro ASP") if kind == "centre" else _l("Legale")
    return f"{prefix}: {name}" if name else recipient


def _level_badge(view, context, model, name) -> Markup:
    label = LEVEL_LABELS.get(model.level, model.level)
    colour = LEVEL_BADGES.get(model.level, "secondary")
    return Markup(f'<span class="badge badge-{colour}">{escape(str(label))}</span>')


def _claim_link(view, context, model, name) -> Markup:
    return Markup(f'<a href="{escape(url_for("claim.details_view", id=model.claim_id))}">'
                  f'{escape(model.claim.number)}</a>')


def _digest_day(view, context, model, name) -> str:
    return dates.format_date(model.digest.day) if model.digest_id else str(_l("in attesa"))


def _kind(view, context, model, name) -> str:
    return str(KIND_LABELS.get(model.kind, model.kind))


class DeadlineReminderView(ReadOnlyView):
    roles = (Role.ADMIN,)
    list_select_related = (DeadlineReminder.claim, DeadlineReminder.digest)
    column_list = ("found_on", "claim", "kind", "due_on", "level", "recipient", "digest")
    column_details_list = column_export_list = column_list
    column_labels = {"found_on": _l("Rilevato il"), "claim": _l("Pratica"), "kind": _l("Tipo di scadenza"),
                     "due_on": _l("Scadenza"), "level": _l("Livello"), "recipient": _l("Destinatario"),
                     "digest": _l("Nel riepilogo del")}
    column_sortable_list = ("found_on", "due_on", "level")
    column_default_sort = [("found_on", True), ("id", True)]
    column_filters = (
        ChoiceFilter(DeadlineReminder.level, _l("Livello"), options=[(k, v) for k, v in LEVEL_LABELS.items()
                                                                    if k != "in_time"]),
        ChoiceFilter(DeadlineReminder.kind, _l("Tipo di scadenza"), options=list(KIND_LABELS.items())),
        DateBetweenFilter(DeadlineReminder.found_on, _l("Rilevato il")),
        DateBetweenFilter(DeadlineReminder.due_on, _l("Scadenza")),
    )
    column_searchable_list = ("recipient",)
    search_hint = _l("Cerca per destinatario (es. centre:3)")
    column_formatters = {"found_on": column(when), "due_on": column(when), "claim": _claim_link,
                         "kind": _kind, "level": _level_badge, "digest": _digest_day,
                         "recipient": lambda v, c, m, n: recipient_label(m.recipient)}
    column_formatters_export = {"claim": lambda v, c, m, n: m.claim.number, "kind": _kind,
                                "level": lambda v, c, m, n: str(LEVEL_LABELS.get(m.level, m.level)),
                                "digest": _digest_day, "recipient": lambda v, c, m, n: recipient_label(m.recipient)}

    def scoped_query(self, user):
        return DeadlineReminder.select()
