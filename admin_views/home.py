"""The home page ("Cruscotto"): the user's claims per state, the age of each queue,
deadlines, legal terms and the day's to-do list, drawn from `workflows.dashboard`; the
charts read theirs (states, overdue trend, breakdowns) as JSON from /admin/dashboard/data."""
from __future__ import annotations

from flask import jsonify, redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_babel import gettext as _
from flask_login import current_user

from models import ClaimStatus
from workflows import dashboard, dates, next_due
from workflows.queues import QUEUES

from .urls import KeptStaticUrls

# The work queue of each state that has one of its own (the final states share "Chiuse").
QUEUE_OF_STATE = {q.statuses[0]: q.slug for q in QUEUES if len(q.statuses) == 1}
LEVEL_QUEUES = {q.level: q.slug for q in QUEUES if q.level is not None}


def queue_url(slug: str) -> str:
    return url_for(f"queue_{slug.replace('-', '_')}.index_view")


class HomeView(KeptStaticUrls, AdminIndexView):
    def is_accessible(self):
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path))

    def _figures(self) -> dashboard.Dashboard:
        return dashboard.for_user(current_user._get_current_object())

    def _state_urls(self) -> dict[str, str]:
        claims_view = self.admin.views_by_endpoint["claim"]
        return {status: claims_view.status_filter_url(status) for status in ClaimStatus.ALL}

    @expose("/")
    def index(self):
        figures = self._figures()
        urls = self._state_urls()
        rows = [(status, label, figures.states[status], urls[status]) for status, label in ClaimStatus.CHOICES]
        return self.render(
            "admin/home.html", counts=rows, total=sum(figures.states.values()), figures=figures,
            queue_urls={status: queue_url(slug) for status, slug in QUEUE_OF_STATE.items()},
            level_urls={level: queue_url(slug) for level, slug in LEVEL_QUEUES.items()},
            kind_labels=next_due.KIND_LABELS, level_labels=next_due.LEVEL_LABELS,
            legal_kinds=dashboard.LEGAL_KINDS, level_badges=next_due.LEVEL_BADGES,
            data_url=url_for(".dashboard_data"),
        )

    @expose("/dashboard/data")
    def dashboard_data(self):
        """The figures the page's charts draw, in the same scope as the page."""
        figures = dashboard.charts_for(current_user._get_current_object())
        urls = self._state_urls()
        breakdown = lambda rows: [{"id": r.id, "name": r.name, "open": r.open, "overdue": r.overdue}  # noqa: E731
                                  for r in rows]
        body = {
            "role": figures.role,
            "today": figures.today.isoformat(),
            "states": [{"status": status, "label": str(label), "count": figures.states[status], "url": urls[status]}
                       for status, label in ClaimStatus.CHOICES],
            "overdue": figures.overdue,
            "due_soon": figures.due_soon,
            "trend": [{"week": monday.isoformat(), "label": dates.format_date(monday), "claims": n}
                      for monday, n in figures.trend],
            "centres": breakdown(figures.centres),
            "lawyers": breakdown(figures.lawyers),
            "sections": list(figures.sections),
            "text": {"claims": _("Pratiche"), "not_overdue": _("Aperte non scadute"), "overdue": _("Aperte scadute"),
                     "became_overdue": _("Pratiche scadute nella settimana")},
        }
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response
