"""Sistema > Azioni di gruppo: the bulk jobs run in the worker, each with its progress page.

The call centre sees every job (and may resume a failed one from its page); a centre's
manager sees the jobs they started. The state is the page's: a job whose worker stopped
shows as waiting for a worker, never as running.
"""
from __future__ import annotations

from flask import g, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from models import BulkJob, Role
from tasks import workers
from workflows import bulk_jobs
from workflows.transitions import event_label

from .formatters import column, when
from .system import ReadOnlyView


def live_workers() -> set[str]:
    """The consumer processes alive, read once per request (a grid shows many jobs)."""
    if "live_workers" not in g:
        g.live_workers = workers.live_names()
    return g.live_workers


def shown(job: BulkJob) -> bulk_jobs.Shown:
    """The job's state as its page and the grid tell it, from its lease and its worker's liveness."""
    return bulk_jobs.shown(job, live=live_workers())


def _state(view, context, job, name) -> str:
    return shown(job).label


def _progress_link(view, context, job, name) -> Markup:
    return Markup(f'<a href="{escape(url_for("claim.bulk_progress", job_id=job.id))}">'
                  f'{escape(str(_l("Avanzamento")))}</a>')


class BulkJobView(ReadOnlyView):
    roles = (Role.ADMIN, Role.ASP_MANAGER)
    list_select_related = (BulkJob.user,)
    column_list = ("created_at", "user", "event", "total", "processed", "succeeded", "status", "finished_at",
                   "progress")
    column_details_list = ("created_at", "user", "event", "total", "processed", "succeeded", "status",
                           "interruptions", "finished_at", "progress")
    column_export_list = ("created_at", "user", "event", "total", "processed", "succeeded", "status",
                          "interruptions", "finished_at")
    column_labels = {"created_at": _l("Avviata il"), "user": _l("Utente"), "event": _l("Azione"),
                     "total": _l("Pratiche"), "processed": _l("Elaborate"), "succeeded": _l("Riuscite"),
                     "status": _l("Stato"), "interruptions": _l("Interruzioni del worker"),
                     "finished_at": _l("Terminata il"), "progress": _l("Avanzamento")}
    column_sortable_list = ("created_at", "finished_at")
    column_default_sort = ("created_at", True)
    column_filters = ("status",)
    column_formatters = {"created_at": column(when), "finished_at": column(when), "status": _state,
                         "event": lambda v, c, m, n: event_label(m.event), "progress": _progress_link}
    column_formatters_export = {"status": _state, "event": lambda v, c, m, n: event_label(m.event)}

    def scoped_query(self, user):
        return bulk_jobs.visible_jobs(user)
