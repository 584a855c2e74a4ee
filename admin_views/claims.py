"""The claims grid, its form, and the work queues (the claim page and bulk actions are mixins)."""
from __future__ import annotations

import logging
import re

import peewee as pw

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models import AspCentre, Claim, ClaimStatus, InsuranceCompany, InvalidValue, Lawyer, Repairer, Role, validators
from workflows import access, claim_edits, money, next_due, queues, who_pays
from workflows.claims import open_claim
from workflows.errors import WorkflowError
from workflows.queues import Queue

from . import deadline_columns
from . import claim_form, queue_columns
from .base import GessinModelView
from .filters import ChoiceFilter, DateBetweenFilter, NumbersFilter, ScopedOptionsFilter, StatesFilter
from .claim_bulk import BulkActionsMixin
from .claim_page import ClaimPageMixin
from .claim_uploads import ClaimUploadsMixin
from .fields import CircumstancesField
from .formatters import column, days_since_column, related_name, status_badge, when
from .list_rows import by_value
from .insurers import UnmappedInsurerFilter

log = logging.getLogger("gessin.admin")

STAFF = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER)


def _by_name(model, key):
    """A party column sorted by the party's name, case aside (a subquery: the rows' own joins are aliased)."""
    return pw.fn.LOWER(model.select(model.name).where(model.id == key))


PARTY_SORTS = (("repairer", _by_name(Repairer, Claim.repairer)), ("asp_centre", _by_name(AspCentre, Claim.asp_centre)),
               ("lawyer", _by_name(Lawyer, Claim.lawyer)), ("insurer", _by_name(InsuranceCompany, Claim.insurer)))


class ClaimView(ClaimPageMixin, ClaimUploadsMixin, BulkActionsMixin, GessinModelView):
    roles = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER, Role.REPAIRER)
    edit_roles = STAFF
    create_roles = (Role.ADMIN, Role.ASP_MANAGER)
    delete_roles = ()

    details_template = "admin/claim_details.html"
    list_template = "admin/claim_list.html"
    list_drawn_here = True  # page_rows and page_chrome draw its rows, header and pager
    list_select_related = (Claim.repairer, Claim.asp_centre, Claim.lawyer, Claim.insurer)
    list_related_names = list_select_related  # the grid shows their names: read by subqueries, not joins

    column_list = ("number", "received_at", "repairer", "asp_centre", "lawyer", "status",
                   *deadline_columns.COLUMNS, "vehicle_a_plate", "insurer", "status_since")
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
        "claimed_amount": _l("Importo richiesto"),
        "last_offer": _l("Ultima offerta"),
        "reimbursed": _l("Rimborsato"),
        **deadline_columns.LABELS,
    }
    # What the list page's cells read (admin_views/base.py): each column's field, the claim's id
    # for its links, what the number's duplicate flag and the deadline columns read; a party's name.
    list_fields = (Claim.id, Claim.number, Claim.possible_duplicates, Claim.received_at, Claim.repairer,
                   Claim.asp_centre, Claim.lawyer, Claim.status, *deadline_columns.FIELDS, Claim.vehicle_a_plate,
                   Claim.insurer, Claim.status_since)
    list_related_fields = ("id", "name")
    column_sortable_list = ("number", "received_at", "status", "vehicle_a_plate", "status_since",
                            *deadline_columns.SORTABLE, *PARTY_SORTS)
    column_sort_nulls_last = deadline_columns.COLUMNS + ("lawyer", "insurer")
    column_default_sort = ("received_at", True)
    column_sort_inverted = ("status_since",)
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
        UnmappedInsurerFilter(),
        *deadline_columns.filters(),  # after the others: the links' filter numbers stay as they were
        StatesFilter(Claim.status, _l("Stato"), ClaimStatus.CHOICES, next_due.OPEN),
        NumbersFilter(Claim.number, _l("Numeri")),
    )
    column_formatters = {
        "number": lambda v, c, m, n: queue_columns.number_cell(v, m),
        "status": by_value("status")(lambda v, c, m, n: status_badge(m.status)),
        "status_since": days_since_column("status_since"),
        "received_at": column(when),
        **{fk.name: related_name for fk in list_related_names},
        **deadline_columns.FORMATTERS,
    }
    column_formatters_export = {
        "number": lambda v, c, m, n: m.number,
        "status": lambda v, c, m, n: str(m.status_label),
        "status_since": lambda v, c, m, n: m.days_in_status(),
        "last_offer": lambda v, c, m, n: money.as_money(m.last_offer),
        "reimbursed": lambda v, c, m, n: money.as_money(m.reimbursed),
        **deadline_columns.EXPORT_FORMATTERS,
    }
    column_export_list = column_list + ("next_due_kind", "customer_name", "wincar_ref", "claimed_amount",
                                        "last_offer", "reimbursed")
    export_max_rows = 100_000

    # A whitelist decided in workflows/: a new column is never a form field by accident.
    form_columns = claim_edits.FORM_FIELDS
    # The Modulo Blu's sections, in its order; a claim's parties only when it is entered.
    form_create_rules = claim_form.ruleset(with_parties=True)
    form_edit_rules = claim_form.ruleset(with_parties=False)
    form_overrides = {"vehicle_a_circumstances": CircumstancesField, "vehicle_b_circumstances": CircumstancesField}
    form_args = {name: {"allow_blank": True, "blank_text": text} for name, text in claim_form.BLANK_CHOICES.items()}
    form_scopes = {
        "insurer": access.visible_insurers,
        "vehicle_a_insurer": access.visible_insurers,
        "vehicle_b_insurer": access.visible_insurers,
    }

    def scoped_query(self, user, *fields):
        return access.visible_claims(user, *fields)

    def get_query(self):
        """The export's rows also carry what each claim was offered and paid."""
        query = super().get_query()
        return money.with_totals(query) if request.endpoint == f"{self.endpoint}.export" else query

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

    # ---- forms: only the fields the role may set, whatever was posted ---------
    def create_form(self, obj=None):
        user = current_user._get_current_object()
        form = _keep_only(super().create_form(obj), claim_edits.creatable_fields(user))
        if "repairer" in form:
            form.repairer.query = claim_edits.settable_repairers(user)
        if "asp_centre" in form:
            form.asp_centre.query = claim_edits.settable_centres(user)
            if request.method == "GET" and user.role == Role.ASP_MANAGER:
                form.asp_centre.data = user.asp_centre  # its only choice: the manager's own centre
        claim_form.require(form, claim_form.REQUIRED_ON_ENTRY)
        return form

    def edit_form(self, obj=None):
        return _keep_only(super().edit_form(obj), claim_edits.editable_fields(current_user._get_current_object()))

    # ---- create through the workflow, which gives the number and first state --
    def create_model(self, form):
        user = current_user._get_current_object()
        claim = Claim()
        form.populate_obj(claim)
        try:
            claim_edits.place_new_claim(claim, user)
            self.on_model_change(form, claim, True)
            open_claim(claim, user, source="web")
        except (InvalidValue, ValueError, WorkflowError) as exc:
            return self.refuse_save(form, exc)
        flash(_("Pratica %(number)s inserita.", number=claim.number), "success")
        return claim

    def update_model(self, form, model):
        """Save the role's data fields only if nobody changed the claim since the form was read."""
        read_version, before = model.version, who_pays.Assessed.of(model)
        user = current_user._get_current_object()
        allowed = [name for name in claim_edits.editable_fields(user) if name in form]
        try:
            for name in allowed:
                getattr(form, name).populate_obj(model, name)
            self.on_model_change(form, model, False)
            model.validate()
        except (InvalidValue, ValueError) as exc:
            return self.refuse_save(form, exc)
        if not claim_edits.save_edit(model, allowed, read_version, before, user):
            flash(_("La pratica %(number)s è stata modificata da un altro utente nel frattempo: ricarica la pagina.",
                    number=model.number), "error")
            return False
        log.info("claim %s data edited by %s", model.number, current_user.login)
        return True

    def status_filter_url(self, status: str) -> str:
        """Link to this grid filtered on one state (used by the home page)."""
        return url_for(f"{self.endpoint}.index_view", flt0_0=status)

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.id)


class QueueView(ClaimView):
    """A work queue (`workflows.queues`): the claims grid limited to the queue's claims, with its
    count on the list tab; a deadline level's queue lists the nearest deadline first."""

    def __init__(self, queue: Queue, *args, **kwargs):
        self.queue = queue
        if queue.level is not None:
            self.column_default_sort = [("next_due_on", False), ("id", False)]
        self.extra_columns = queue_columns.EXTRA.get(queue.slug, ())
        if self.extra_columns:  # what the queue's job needs, after the state
            at = ClaimView.column_list.index("status") + 1
            self.column_list = ClaimView.column_list[:at] + self.extra_columns + ClaimView.column_list[at:]
            self.column_labels = {**ClaimView.column_labels, **{c: queue_columns.LABELS[c] for c in self.extra_columns}}
            self.column_formatters = {**ClaimView.column_formatters, **queue_columns.FORMATTERS}
            self.list_fields = queue_columns.list_fields(ClaimView.list_fields, self.extra_columns)
        super().__init__(*args, **kwargs)

    def get_query(self):
        query = super().get_query()
        return money.with_totals(query) if set(self.extra_columns) & queue_columns.WITH_TOTALS else query

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if "completeness" in self.extra_columns and isinstance(rows, list) and rows:
            queue_columns.read_document_kinds(rows)  # one query for the page, not one per row
        return count, rows

    def scoped_query(self, user, *fields):
        return access.visible_claims(user, *fields).where(self.queue.clause(deadline_columns.today()))

    def is_action_allowed(self, name):
        """Only the bulk actions a claim of this queue can take (a queue of a deadline level holds any open state)."""
        return queues.offers(self.queue, name) and super().is_action_allowed(name)

    def is_visible(self):
        """In the menu only for those whose files the queue can hold (the page itself stays reachable)."""
        user = current_user._get_current_object()
        return not user.is_authenticated or queues.can_hold_files_of(self.queue, user)

    def get_one(self, id):
        """A claim that has just left the queue still opens here (no 404 after acting on it)."""
        claim = access.get_claim(current_user._get_current_object(), id)
        if claim is None:
            abort(404)
        return claim


def _keep_only(form, allowed):
    """The form without the fields outside `allowed` (a field not in the form is never read)."""
    for name in [f.name for f in form if f.name != "csrf_token" and f.name not in allowed]:
        delattr(form, name)
    return form

