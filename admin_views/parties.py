"""Grids of the parties: repairers, ASP centres, lawyers, insurers."""
from __future__ import annotations

import logging

import peewee as pw
from flask import abort, flash, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.model.template import EditRowAction
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from wtfpeewee.fields import ModelSelectMultipleField

from models import AspCentre, InvalidValue, Lawyer, LawyerCentre, Repairer, Role, db
from workflows import access, credentials, party_edits
from workflows.errors import WorkflowError
from workflows.parties import ensure_own_desk

from .base import GessinModelView

log = logging.getLogger("gessin.admin")

EVERYONE = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER, Role.REPAIRER)
PARTY_LABELS = {
    "name": _l("Ragione sociale"),
    "vat_number": _l("Partita IVA"),
    "fiscal_code": _l("Codice fiscale"),
    "email": _l("E-mail"),
    "pec": _l("PEC"),
    "phone": _l("Telefono"),
    "address": _l("Indirizzo"),
    "active": _l("Attivo"),
    "wincar_user": _l("UserID WinCar"),
    "inspection_hours": _l("Orari per la visione del veicolo"),
    "iban": _l("IBAN"),
}


class OwnRecordEditRow(EditRowAction):
    """The pencil of a row, shown only on a record the user may change."""

    def render(self, context, row_id, row):
        if not party_edits.may_edit(current_user._get_current_object(), row):
            return ""
        return super().render(context, row_id, row)


class PartyEditMixin:
    """Edits of a party through `workflows.party_edits`: who may edit which record and
    which of its fields, on every route (the list's pencil, the edit page GET and POST),
    and the audit of its contact addresses in the same transaction as the change."""

    changes_choices = True  # a POST here forgets all that is kept, for everyone (admin_views/kept.py)

    @property
    def can_edit(self):
        return current_user.is_authenticated and current_user.role in party_edits.editable_roles(self.model)

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """Flask-Admin sends a role without edit rights back to the list; say 403 instead."""
        if not self.can_edit:
            abort(403)
        return super().edit_view()

    def get_list_row_actions(self):
        return [OwnRecordEditRow() if type(a) is EditRowAction else a for a in super().get_list_row_actions()]

    def edit_form(self, obj=None):
        allowed = party_edits.editable_fields(current_user._get_current_object(), obj)
        if not allowed:
            abort(403)
        form = super().edit_form(obj)
        for name in [f.name for f in form if f.name in self.model._meta.fields and f.name not in allowed]:
            delattr(form, name)
        return form

    def update_model(self, form, model):
        values = {f.name: f.data for f in form if f.name in self.model._meta.fields}
        try:
            self.on_model_change(form, model, False)
            party_edits.update_party(model, current_user._get_current_object(), values)
        except (InvalidValue, WorkflowError, ValueError, pw.IntegrityError) as exc:
            return self.refuse_save(form, exc)
        self.after_model_change(form, model, False)
        return True


def _wincar_setup_link(repairer):
    """The UserID, and for the call centre a link to the body shop's "Configura WinCar" page."""
    if not current_user.is_authenticated or current_user.role != Role.ADMIN:
        return repairer.wincar_user or ""
    return Markup('<a href="{}" title="{}">{}</a>').format(
        url_for("wincar_setup.setup", repairer_id=repairer.id), _l("Configura WinCar"),
        repairer.wincar_user or _l("Configura WinCar"))


class RepairerView(PartyEditMixin, GessinModelView):
    roles = EVERYONE
    column_list = ("name", "vat_number", "address", "email", "phone", "wincar_user", "active")
    column_labels = PARTY_LABELS
    column_searchable_list = ("name", "vat_number", "email")
    column_sortable_list = ("name", "vat_number", "active")
    column_default_sort = "name"
    column_filters = ("active",)
    column_exclude_list = ("wincar_password_hash",)
    column_details_exclude_list = ("wincar_password_hash",)
    column_export_exclude_list = ("wincar_password_hash",)
    form_excluded_columns = ("wincar_user", "wincar_password_hash", "created_at", "claims", "users")
    column_formatters = {"wincar_user": lambda v, c, m, n: _wincar_setup_link(m)}

    def scoped_query(self, user):
        return access.visible_repairers(user)

    def is_action_allowed(self, name):
        if name == "wincar_credentials":
            return current_user.is_authenticated and current_user.role == Role.ADMIN
        return super().is_action_allowed(name)

    @action("wincar_credentials", _l("Genera credenziali WinCar"),
            _l("Generare nuove credenziali WinCar? Quelle attuali smetteranno di funzionare."))
    def action_wincar_credentials(self, ids):
        """New credentials, shown once on a page of their own (never kept, never in a cookie)."""
        if current_user.role != Role.ADMIN:
            abort(403)
        issued = [(r, *credentials.issue(r)) for r in self.get_query().where(Repairer.id.in_([int(i) for i in ids]))]
        return self.render("admin/wincar_credentials.html", issued=issued, return_url=self.get_url(".index_view"))


class AspCentreView(PartyEditMixin, GessinModelView):
    roles = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER, Role.REPAIRER)
    column_list = ("name", "vat_number", "email", "pec", "phone", "active")
    column_labels = PARTY_LABELS
    column_searchable_list = ("name", "vat_number")
    column_sortable_list = ("name", "vat_number")
    column_default_sort = "name"
    form_excluded_columns = ("created_at", "claims", "users", "own_desk", "lawyer_links")

    def scoped_query(self, user):
        return access.visible_centres(user)

    def after_model_change(self, form, model, is_created):
        if is_created:
            ensure_own_desk(model)


class LawyerView(PartyEditMixin, GessinModelView):
    roles = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER)
    create_roles = (Role.ADMIN, Role.ASP_MANAGER)
    column_list = ("name", "kind", "email", "pec", "tax_code", "active")
    column_labels = {"name": _l("Nome o studio"), "kind": _l("Tipo"), "email": _l("E-mail"),
                     "pec": _l("PEC"), "tax_code": _l("CF / P. IVA"), "active": _l("Attivo"),
                     "address": _l("Indirizzo dello studio"),
                     "centres": _l("Centri ASP")}
    column_searchable_list = ("name", "email")
    column_sortable_list = ("name", "kind")
    column_default_sort = "name"
    column_formatters = {"kind": lambda v, c, m, n: dict(m.KINDS).get(m.kind, m.kind)}
    form_excluded_columns = ("created_at", "own_centre", "claims", "users", "centre_links")
    form_extra_fields = {
        "centres": ModelSelectMultipleField(_l("Centri ASP"), model=AspCentre),
    }
    form_scopes = {"centres": access.visible_centres}

    def scoped_query(self, user):
        return access.visible_lawyers(user)

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if not current_user.is_admin:
            del form.centres  # a manager's new lawyer works for its centre (after_model_change)
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if not current_user.is_admin:
            del form.centres  # a centre leaves a lawyer with the action below, never through its record
        return form

    def on_form_prefill(self, form, id):
        if "centres" in form:
            links = LawyerCentre.select(LawyerCentre, AspCentre).join(AspCentre).where(LawyerCentre.lawyer == int(id))
            form.centres.data = [link.asp_centre for link in links]

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        for centre in (form.centres.data or []) if "centres" in form else []:
            if not access.visible_centres(current_user).where(AspCentre.id == centre.id).exists():
                raise ValueError(_l("Centro ASP non consentito."))

    def after_model_change(self, form, model, is_created):
        if "centres" in form:
            chosen = {c.id for c in form.centres.data or []}
            mine = {c.id for c in access.visible_centres(current_user)}
            with db.atomic():
                (LawyerCentre.delete()
                 .where(LawyerCentre.lawyer == model, LawyerCentre.asp_centre.in_(mine - chosen)).execute())
                for centre_id in chosen & mine:
                    LawyerCentre.insert(lawyer=model, asp_centre=centre_id).on_conflict_ignore().execute()
            log.info("lawyer %s saved by %s, centres %s", model.id, current_user.login, sorted(chosen & mine))
        elif is_created and current_user.role == Role.ASP_MANAGER:
            LawyerCentre.insert(lawyer=model, asp_centre=current_user.asp_centre_id).on_conflict_ignore().execute()
            log.info("lawyer %s created by %s for centre %s", model.id, current_user.login, current_user.asp_centre_id)

    def is_action_allowed(self, name):
        if name == "leave_centre":
            return current_user.is_authenticated and current_user.role == Role.ASP_MANAGER
        return super().is_action_allowed(name)

    @action("leave_centre", _l("Togli dal mio centro"),
            _l("Togliere i legali scelti dal tuo Centro ASP? Le pratiche già affidate restano a loro."))
    def action_leave_centre(self, ids):
        """The manager's own links only: the lawyers' records and other centres are not touched."""
        if current_user.role != Role.ASP_MANAGER:
            abort(403)
        visible = [lw.id for lw in self.get_query().where(Lawyer.id.in_([int(i) for i in ids]))]
        removed = party_edits.unlink_lawyers(current_user._get_current_object(), visible)
        flash(ngettext("%(num)d legale tolto dal tuo centro.", "%(num)d legali tolti dal tuo centro.", removed),
              "success")


class InsuranceCompanyView(PartyEditMixin, GessinModelView):
    roles = EVERYONE
    column_list = ("name", "claims_email", "claims_pec", "claims_address", "active")
    column_labels = {"name": _l("Denominazione"), "claims_email": _l("E-mail ufficio sinistri"),
                     "claims_pec": _l("PEC ufficio sinistri"), "claims_address": _l("Indirizzo ufficio sinistri"),
                     "active": _l("Attiva")}
    column_searchable_list = ("name",)
    column_sortable_list = ("name",)
    column_default_sort = "name"
    form_excluded_columns = ("created_at", "claims")

    def scoped_query(self, user):
        return access.visible_insurers(user)
