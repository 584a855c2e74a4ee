"""Bulk actions on the claims grid: on the ticked rows or on every row of the filter."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from models import Claim, Lawyer
from tasks import bulk as job_tasks
from workflows import access, bulk
from workflows import bulk_jobs
from workflows.errors import WorkflowError
from workflows.transitions import BULK_ROLES, OUTCOME_REASONS, TRANSITIONS

from .bulk_jobs import shown as job_shown
from .formatters import flash_bulk_result
from .kept import kept
from .urls import safe_next


class BulkActionsMixin:
    """The grid's bulk actions, each a call of `workflows.bulk`; large ones run in the worker."""

    def is_action_allowed(self, name):
        t = TRANSITIONS.get(name)
        if t is None or not t.bulk:
            return super().is_action_allowed(name)
        return current_user.is_authenticated and current_user.role in t.roles and current_user.role in BULK_ROLES

    @action("validate", _l("Valida"), _l("Validare le pratiche scelte?"))
    def action_validate(self, ids):
        return self._bulk("validate", ids)

    @action("assign", _l("Affida al legale scelto"), _l("Affidare le pratiche scelte al legale indicato?"))
    def action_assign(self, ids):
        return self._bulk("assign", ids)

    @action("self_assign", _l("Auto-affida al centro"), _l("Auto-affidare le pratiche scelte al centro?"))
    def action_self_assign(self, ids):
        return self._bulk("self_assign", ids)

    @action("drop", _l("Senza seguito"), _l("Chiudere senza seguito le pratiche scelte?"))
    def action_drop(self, ids):
        return self._bulk("drop", ids)

    def bulk_lawyers(self) -> list[tuple[int, str]]:
        """(id, name) of the lawyers the user may entrust claims to, kept a while (`admin_views/kept.py`);
        the action checks the lawyer chosen again (`workflows.bulk`)."""
        user = current_user._get_current_object()
        return kept("choices", "bulk_lawyers", lambda: list(
            access.visible_lawyers(user).where(Lawyer.own_centre.is_null(), Lawyer.active == True)  # noqa: E712
            .order_by(Lawyer.name).select(Lawyer.id, Lawyer.name).tuples()))

    def bulk_reasons(self):
        return [(code, str(label)) for code, label in OUTCOME_REASONS.items()]

    # What each action's confirmation says, with the count and the choice filled in by the page.
    bulk_confirmations = {  # (one claim, several)
        "validate": (_l("Validare la pratica scelta?"), _l("Validare {count} pratiche?")),
        "assign": (_l("Affidare la pratica scelta a {lawyer}?"), _l("Affidare {count} pratiche a {lawyer}?")),
        "self_assign": (_l("Affidare la pratica scelta al centro stesso, senza un legale?"),
                        _l("Affidare {count} pratiche al centro stesso, senza un legale?")),
        "drop": (_l("Chiudere senza seguito la pratica scelta ({reason})?"),
                 _l("Chiudere senza seguito {count} pratiche ({reason})?")),
    }

    def numbers_url(self, numbers: list[str]) -> str | None:
        """This grid listing the claims with these numbers (the numbers filter)."""
        from .filters import NumbersFilter
        for arg, (_index, flt) in self.filter_args().items():
            if isinstance(flt, NumbersFilter):
                wanted = [n for n in numbers if NumbersFilter.NUMBER.fullmatch(n)][:500]
                return url_for(".index_view", **{f"flt0_{arg}": ",".join(wanted)}) if wanted else None
        return None

    def bulk_needs(self, event: str) -> list[str]:
        """The choices an action needs before it may start (the page checks them, `workflows.bulk` again)."""
        return bulk.needed_choices(event)

    def bulk_panel(self) -> bool:
        """This grid has its own bulk panel: Flask-Admin's "Con la selezione" menu is not drawn."""
        return True

    def _bulk(self, event: str, ids):
        user = current_user._get_current_object()
        form = request.form
        params = {key: form[key] for key in ("lawyer", "reason", "note") if form.get(key)}
        try:
            bulk.check_choices(event, params)  # refused before anything starts: no job, no claim touched
        except WorkflowError as exc:
            flash(str(exc.message), "error")
            return None
        if form.get("bulk_scope") == "filtered":
            ids = self._filtered_ids(form.get("bulk_query", ""))
        ids = [int(i) for i in ids]
        if len(ids) > current_app.config["BULK_INLINE_LIMIT"]:
            job = job_tasks.start(event, ids, user, params)
            flash(_("%(count)d pratiche: l'azione prosegue in background.", count=len(ids)), "info")
            return redirect(url_for(".bulk_progress", job_id=job.id, url=request.form.get("url")))
        try:
            result = bulk.apply_many(event, ids, user, **params)
        except WorkflowError as exc:
            flash(str(exc.message), "error")
            return None
        flash_bulk_result(TRANSITIONS[event].label, result, link_for=self.numbers_url)
        return None  # back to the grid, filters kept

    def _filtered_ids(self, query_string: str) -> list[int]:
        """Ids of every claim matching the grid's filters and search (all pages)."""
        return [row.id for row in self.filtered_query(query_string).select(Claim.id).order_by(Claim.id)]

    def filtered_query(self, query_string: str):
        """The user's claims that the grid's filters and search in `query_string` list (all pages)."""
        args = MultiDict(parse_qsl(query_string, keep_blank_values=True))
        filters = []
        for key, value in args.items(multi=True):
            match = re.fullmatch(r"flt(\d+)_(.*)", key)
            if match and match.group(2) in self.filter_args():
                index, flt = self.filter_args()[match.group(2)]
                if flt.validate(value):
                    filters.append((int(match.group(1)), index, flt.name, value))
        filters = [(index, name, value) for _pos, index, name, value in sorted(filters)]
        _count, query = self.get_list(0, None, False, args.get("search"), filters, execute=False, page_size=0)
        return query

    @expose("/count/")
    def count_view(self):
        """How many claims the grid lists with the filters and search of this URL, all of them:
        what "apply to all" asks before its confirmation when the page stopped counting
        (`list_count`). JSON `{"count": N}`; only the user's claims are counted."""
        return jsonify(count=self.filtered_query(request.query_string.decode()).order_by().count())

    @expose("/bulk/<id:job_id>")
    def bulk_progress(self, job_id: int):
        """A job's progress, for its user and the call centre; what it says comes from its lease."""
        user = current_user._get_current_object()
        job = bulk_jobs.visible_job(user, job_id)
        if job is None:
            abort(404)
        return self.render("admin/bulk_progress.html", job=job, skipped=json.loads(job.skipped),
                           shown=job_shown(job), can_resume=bulk_jobs.can_resume(job, user),
                           label=TRANSITIONS[job.event].label,
                           return_url=safe_next(request.args.get("url"), self.get_url(".index_view")))

    @expose("/bulk/<id:job_id>/resume", methods=("POST",))
    def bulk_resume(self, job_id: int):
        """Go on with a job that stopped on an error, from its first unprocessed batch."""
        user = current_user._get_current_object()
        job = bulk_jobs.visible_job(user, job_id)
        if job is None:
            abort(404)
        if job_tasks.resume(job, user):
            flash(_("L'azione riprende dalla pratica %(n)d di %(total)d.", n=job.processed + 1, total=job.total),
                  "info")
        else:
            flash(_("Questa azione non è interrotta: non c'è niente da riprendere."), "warning")
        return redirect(url_for(".bulk_progress", job_id=job.id, url=safe_next(request.form.get("url"), self.get_url(".index_view"))))
