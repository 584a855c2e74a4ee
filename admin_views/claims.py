"""The claims grid and the claim page."""
from __future__ import annotations

import json
import logging
import re
from urllib.parse import parse_qsl

from flask import abort, current_app, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from models import Attachment, BulkJob, Claim, ClaimStatus, InvalidValue, Lawyer, Role, validators
from tasks import bulk as bulk_jobs
from workflows import access, bulk, checklist, engine
from workflows.attachments import storage_path
from workflows.claims import open_claim
from workflows.errors import WorkflowError
from workflows.transitions import BULK_ROLES, OUTCOME_REASONS, TRANSITIONS

from .base import ChoiceFilter, DateBetweenFilter, GessinModelView, ScopedOptionsFilter
from .claim_actions import fields_for, read_form
from .formatters import column, days_since, euro, flash_bulk_result, status_badge, when

log = logging.getLogger("gessin.admin")

STAFF = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER)


class ClaimView(GessinModelView):
    roles = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER, Role.REPAIRER)
    edit_roles = STAFF
    create_roles = (Role.ADMIN, Role.ASP_MANAGER)
    delete_roles = ()

    details_template = "admin/claim_details.html"
    list_template = "admin/claim_list.html"
    list_select_related = (Claim.repairer, Claim.asp_centre, Claim.lawyer, Claim.insurer)

    column_list = ("number", "received_at", "repairer", "asp_centre", "lawyer", "status",
                   "vehicle_a_plate", "insurer", "status_since")
    column_labels = {
        "number": _l("Numero"),
        "received_at": _l("Ricevuta"),
        "repairer": _l("Carrozzeria"),
        "asp_centre": _l("Centro ASP"),
        "lawyer": _l("Legale"),
        "status": _l("Stato"),
        "vehicle_a_plate": _l("Targa"),
        "insurer": _l("Compagnia"),
        "status_since": _l("Giorni nello stato"),
        "customer_name": _l("Cliente"),
        "wincar_ref": _l("Rif. WinCar"),
    }
    column_sortable_list = ("number", "received_at", "status", "vehicle_a_plate", "status_since")
    column_default_sort = ("received_at", True)
    column_searchable_list = ("number", "vehicle_a_plate", "vehicle_b_plate", "customer_name", "wincar_ref")
    search_hint = _l("Numero, targa, cliente o rif. WinCar")
    column_filters = (
        ChoiceFilter(Claim.status, _l("Stato"), options=[(k, v) for k, v in ClaimStatus.CHOICES]),
        ScopedOptionsFilter(Claim.asp_centre, _l("Centro ASP"), access.visible_centres),
        ScopedOptionsFilter(Claim.lawyer, _l("Legale"), access.visible_lawyers),
        ScopedOptionsFilter(Claim.repairer, _l("Carrozzeria"), access.visible_repairers),
        ScopedOptionsFilter(Claim.insurer, _l("Compagnia"), access.visible_insurers),
        DateBetweenFilter(Claim.received_at, _l("Ricevuta")),
        DateBetweenFilter(Claim.accident_date, _l("Data sinistro")),
    )
    column_formatters = {
        "number": lambda v, c, m, n: Markup(
            f'<a class="claim-number" href="{escape(v.get_url(".details_view", id=m.id))}">{escape(m.number)}</a>'),
        "status": lambda v, c, m, n: status_badge(m.status),
        "status_since": column(days_since),
        "received_at": column(when),
    }
    column_formatters_export = {
        "number": lambda v, c, m, n: m.number,
        "status": lambda v, c, m, n: str(m.status_label),
        "status_since": lambda v, c, m, n: m.days_in_status(),
        "received_at": lambda v, c, m, n: m.received_at.strftime("%Y-%m-%d %H:%M"),
    }
    column_export_list = column_list + ("customer_name", "wincar_ref")
    export_max_rows = 100_000

    form_excluded_columns = (
        "number", "status", "status_since", "version", "received_at", "source", "created_at",
        "updated_at", "closed_at", "lawyer", "complete_since", "claim_filed_on",
        "direct_compensation", "direct_compensation_reason", "wincar_assessment",
        "attachments", "history", "payments", "emails", "intake_events",
    )
    form_scopes = {
        "repairer": access.visible_repairers,
        "asp_centre": access.visible_centres,
        "insurer": access.visible_insurers,
        "vehicle_a_insurer": access.visible_insurers,
        "vehicle_b_insurer": access.visible_insurers,
    }

    def scoped_query(self, user):
        return access.visible_claims(user)

    def search_clause(self, word: str):
        """A claim number or a whole plate is looked up exactly (by index); other words by substring."""
        number = re.fullmatch(r"(\d{4})/(\d{1,6})", word)
        if number:
            return Claim.number == f"{number.group(1)}/{int(number.group(2)):06d}"
        try:
            plate = validators.plate(word)
        except validators.InvalidValue:
            return super().search_clause(word)
        return (Claim.vehicle_a_plate == plate) | (Claim.vehicle_b_plate == plate) | (Claim.wincar_ref == word)

    # ---- create through the workflow, which gives the number and first state --
    def create_model(self, form):
        claim = Claim()
        form.populate_obj(claim)
        try:
            self.on_model_change(form, claim, True)
            open_claim(claim, current_user._get_current_object(), source="web")
        except (InvalidValue, ValueError) as exc:
            flash(str(getattr(exc, "message", exc)), "error")
            return False
        flash(_("Pratica %(number)s inserita.", number=claim.number), "success")
        return claim

    def update_model(self, form, model):
        """Save data fields only if nobody changed the claim since the form was read."""
        read_version = model.version
        try:
            form.populate_obj(model)
            self.on_model_change(form, model, False)
            model.validate()
        except (InvalidValue, ValueError) as exc:
            flash(str(getattr(exc, "message", exc)), "error")
            return False
        data = {field: getattr(model, field.name) for field in self._form_fields()}
        data[Claim.version] = read_version + 1
        data[Claim.updated_at] = model.updated_at
        updated = (Claim.update(data)
                   .where(Claim.id == model.id, Claim.version == read_version).execute())
        if not updated:
            flash(_("La pratica %(number)s è stata modificata da un altro utente nel frattempo: ricarica la pagina.",
                    number=model.number), "error")
            return False
        log.info("claim %s data edited by %s", model.number, current_user.login)
        return True

    def _form_fields(self):
        excluded = set(self.form_excluded_columns) | {"id"}
        return [f for f in Claim._meta.sorted_fields if f.name not in excluded]

    # ---- the claim page ------------------------------------------------------
    def claim_sections(self, claim):
        """The claim's data, grouped as a clerk reads it."""
        yes_no = lambda v: _("Sì") if v else _("No")  # noqa: E731
        side = lambda s: [  # noqa: E731
            (_("Targa"), getattr(claim, f"vehicle_{s}_plate")),
            (_("Nazione"), getattr(claim, f"vehicle_{s}_country")),
            (_("Compagnia"), getattr(claim, f"vehicle_{s}_insurer")),
            (_("Polizza"), getattr(claim, f"vehicle_{s}_policy")),
            (_("Conducente"), getattr(claim, f"vehicle_{s}_driver")),
            (_("Circostanze"), getattr(claim, f"vehicle_{s}_circumstances")),
        ]
        return [
            (_("Pratica"), [
                (_("Numero denuncia web"), claim.number),
                (_("Stato"), status_badge(claim.status)),
                (_("Nello stato da"), days_since(claim.status_since)),
                (_("Ricevuta il"), when(claim.received_at)),
                (_("Origine"), dict(Claim.SOURCES).get(claim.source, claim.source)),
                (_("Riferimento WinCar"), claim.wincar_ref),
                (_("Possibili duplicati"), self._duplicates_text(claim)),
            ]),
            (_("Soggetti"), [
                (_("Carrozzeria"), claim.repairer),
                (_("Centro ASP"), claim.asp_centre),
                (_("Legale"), claim.lawyer),
                (_("Compagnia debitrice"), claim.insurer),
            ]),
            (_("Cliente"), [
                (_("Nome"), claim.customer_name),
                (_("Codice fiscale"), claim.customer_fiscal_code),
                (_("Telefono"), claim.customer_phone),
                (_("E-mail"), claim.customer_email),
                (_("Indirizzo"), claim.customer_address),
            ]),
            (_("Sinistro (Modulo Blu)"), [
                (_("Data"), when(claim.accident_date)),
                (_("Ora"), claim.accident_time.strftime("%H:%M") if claim.accident_time else ""),
                (_("Luogo"), claim.accident_place),
                (_("Veicoli coinvolti"), claim.vehicle_count),
                (_("Feriti"), yes_no(claim.injuries)),
                (_("Persone ferite"), claim.injured_persons),
                (_("Ferito solo il conducente A"), "" if claim.injured_driver_a_only is None
                 else yes_no(claim.injured_driver_a_only)),
                (_("Passeggeri feriti"), "" if claim.passengers_injured is None else yes_no(claim.passengers_injured)),
                (_("Invalidità permanente conducente A"), f"{claim.disability_pct} %" if claim.disability_pct else ""),
                (_("Testimoni"), claim.witnesses),
                (_("Firmato da entrambi i conducenti"), yes_no(claim.signed_by_both)),
            ]),
            (_("Veicolo A"), side("a")),
            (_("Veicolo B"), side("b")),
            (_("Importi e date"), [
                (_("Preventivo"), euro(claim.estimate_amount)),
                (_("Importo richiesto"), euro(claim.claimed_amount)),
                (_("Documentazione completa dal"), when(claim.complete_since)),
                (_("Richiesta danni ricevuta dalla compagnia il"), when(claim.claim_filed_on)),
                (_("Offerta accettata o rifiutata il"), when(claim.offer_answered_on)),
                (_("Prescrizione interrotta il"), when(claim.prescription_interrupted_on)),
            ]),
            (_("Indennizzo diretto (art. 149)"), [
                (_("Valutazione del portale"), "" if claim.direct_compensation is None else yes_no(claim.direct_compensation)),
                (_("Motivo"), claim.direct_compensation_reason),
                (_("Valutazione WinCar"), claim.wincar_assessment),
            ]),
            (_("Note"), [(_("Note"), claim.notes)]),
        ]

    def _duplicates_text(self, claim) -> str:
        """Numbers the user may open; others (another centre's files) only counted."""
        numbers = [n for n in (claim.possible_duplicates or "").split(",") if n]
        if not numbers:
            return ""
        user = current_user._get_current_object()
        mine = [c.number for c in access.visible_claims(user, Claim.number).where(Claim.number.in_(numbers))]
        others = len(numbers) - len(mine)
        text = ", ".join(mine)
        if others:
            text += ("; " if text else "") + ngettext("%(num)d pratica di un altro centro",
                                                       "%(num)d pratiche di altri centri", others)
        return text

    def claim_missing(self, claim):
        return [checklist.describe(code) for code in json.loads(claim.missing_items or "[]")]

    def claim_attachments(self, claim):
        return list(claim.attachments.order_by(Attachment.kind, Attachment.version.desc()))

    def claim_history(self, claim):
        return list(claim.history.order_by(claim.history.model.at.desc(), claim.history.model.id.desc()))

    def claim_payments(self, claim):
        return list(claim.payments.order_by(claim.payments.model.on_date.desc()))

    # ---- bulk actions on the grid ---------------------------------------------
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

    def bulk_lawyers(self):
        user = current_user._get_current_object()
        return list(access.visible_lawyers(user).where(Lawyer.own_centre.is_null(), Lawyer.active == True)  # noqa: E712
                    .order_by(Lawyer.name))

    def bulk_reasons(self):
        return [(code, str(label)) for code, label in OUTCOME_REASONS.items()]

    def _bulk(self, event: str, ids):
        user = current_user._get_current_object()
        form = request.form
        params = {key: form[key] for key in ("lawyer", "reason", "note") if form.get(key)}
        if form.get("bulk_scope") == "filtered":
            ids = self._filtered_ids(form.get("bulk_query", ""))
        ids = [int(i) for i in ids]
        if len(ids) > current_app.config["BULK_INLINE_LIMIT"]:
            job = bulk_jobs.start(event, ids, user, params)
            flash(_("%(count)d pratiche: l'azione prosegue in background.", count=len(ids)), "info")
            return redirect(url_for(".bulk_progress", job_id=job.id, url=request.form.get("url")))
        try:
            result = bulk.apply_many(event, ids, user, **params)
        except WorkflowError as exc:
            flash(str(exc.message), "error")
            return None
        flash_bulk_result(TRANSITIONS[event].label, result)
        return None  # back to the grid, filters kept

    def _filtered_ids(self, query_string: str) -> list[int]:
        """Ids of every claim matching the grid's filters and search (all pages)."""
        args = MultiDict(parse_qsl(query_string, keep_blank_values=True))
        filters = []
        for key, value in args.items(multi=True):
            match = re.fullmatch(r"flt(\d+)_(.*)", key)
            if match and self._filter_args and match.group(2) in self._filter_args:
                index, flt = self._filter_args[match.group(2)]
                if flt.validate(value):
                    filters.append((int(match.group(1)), index, flt.name, value))
        filters = [(index, name, value) for _pos, index, name, value in sorted(filters)]
        _count, query = self.get_list(0, None, False, args.get("search"), filters, execute=False, page_size=0)
        return [row.id for row in query.select(Claim.id).order_by(Claim.id)]

    @expose("/bulk/<int:job_id>")
    def bulk_progress(self, job_id: int):
        job = BulkJob.get_or_none(BulkJob.id == job_id, BulkJob.user == current_user.id)
        if job is None:
            abort(404)
        return self.render("admin/bulk_progress.html", job=job, skipped=json.loads(job.skipped),
                           label=TRANSITIONS[job.event].label, return_url=request.args.get("url") or
                           self.get_url(".index_view"))

    # ---- workflow buttons ----------------------------------------------------
    def claim_actions(self, claim):
        """The events the current user may apply now, each with its form fields."""
        user = current_user._get_current_object()
        return [(t, fields_for(t.event, claim)) for t in engine.available(claim, user)]

    @expose("/act/<int:claim_id>/<event>", methods=["POST"])
    def act(self, claim_id: int, event: str):
        claim = self.get_one(claim_id)
        user = current_user._get_current_object()
        details = self.get_url(".details_view", id=claim.id)
        if event not in TRANSITIONS:
            abort(404)
        try:
            saved = engine.apply(event, claim, user, version=request.form.get("version", claim.version),
                                 **read_form(event, claim, request.form))
        except WorkflowError as exc:
            flash(str(exc.message), "error")
            return redirect(details)
        flash(_("Pratica %(number)s: %(action)s eseguita. Stato: %(status)s.", number=saved.number,
                action=TRANSITIONS[event].label, status=saved.status_label), "success")
        return redirect(details)

    @expose("/attachment/<int:attachment_id>")
    def download(self, attachment_id: int):
        user = current_user._get_current_object()
        attachment = access.visible_attachments(user).where(Attachment.id == attachment_id).first()
        if attachment is None:
            abort(404)
        path = storage_path(current_app.config["STORAGE_DIR"], attachment.stored_name)
        if not path.exists():
            log.error("attachment %s of claim %s missing on disk", attachment.id, attachment.claim_id)
            abort(404)
        log.info("attachment %s of claim %s downloaded by %s", attachment.id, attachment.claim_id, user.login)
        return send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.original_name)

    def status_filter_url(self, status: str) -> str:
        """Link to this grid filtered on one state (used by the home page)."""
        return url_for(f"{self.endpoint}.index_view", flt0_0=status)

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.id)


class QueueView(ClaimView):
    """A work queue: the claims grid limited to some states, with its count on the list tab."""

    queue_statuses: tuple[str, ...] = ()

    def __init__(self, statuses, *args, **kwargs):
        self.queue_statuses = tuple(statuses)
        super().__init__(*args, **kwargs)

    def scoped_query(self, user):
        return access.visible_claims(user).where(Claim.status.in_(self.queue_statuses))

    def get_one(self, id):
        """A claim that has just left the queue still opens here (no 404 after acting on it)."""
        claim = access.get_claim(current_user._get_current_object(), id)
        if claim is None:
            abort(404)
        return claim


QUEUES = (
    ("to-validate", _l("Da validare"), (ClaimStatus.RECEIVED,)),
    ("incomplete", _l("Incomplete"), (ClaimStatus.INCOMPLETE,)),
    ("to-assign", _l("Da affidare"), (ClaimStatus.VALIDATED,)),
    ("assigned", _l("Affidate"), (ClaimStatus.ASSIGNED,)),
    ("awaiting-offer", _l("In attesa di offerta"), (ClaimStatus.FILED,)),
    ("partially-reimbursed", _l("Rimborso parziale"), (ClaimStatus.PARTIALLY_REIMBURSED,)),
    ("closed", _l("Chiuse"), ClaimStatus.FINAL),
)
