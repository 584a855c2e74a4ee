"""Grids of the parties: repairers, ASP centres, lawyers, insurers."""
from __future__ import annotations

import logging

from flask import abort
from flask_admin.actions import action
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtfpeewee.fields import ModelSelectMultipleField

from models import AspCentre, LawyerCentre, Repairer, Role, db
from workflows import access, credentials
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
}


class RepairerView(GessinModelView):
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


class AspCentreView(GessinModelView):
    roles = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER, Role.REPAIRER)
    edit_roles = (Role.ADMIN, Role.ASP_MANAGER)
    column_list = ("name", "vat_number", "email", "pec", "phone", "active")
    column_labels = PARTY_LABELS
    column_searchable_list = ("name", "vat_number")
    column_sortable_list = ("name", "vat_number")
    column_default_sort = "name"
    form_excluded_columns = ("created_at", "claims", "users", "own_desk", "lawyer_links")

    def scoped_query(self, user):
        return access.visible_centres(user)

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if not current_user.is_admin:
            # A centre's VAT number identifies it to WinCar: only the call centre changes it.
            del form.vat_number
            del form.active
        return form

    def after_model_change(self, form, model, is_created):
        if is_created:
            ensure_own_desk(model)


class LawyerView(GessinModelView):
    roles = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER)
    edit_roles = (Role.ADMIN, Role.ASP_MANAGER)
    create_roles = (Role.ADMIN, Role.ASP_MANAGER)
    column_list = ("name", "kind", "email", "pec", "tax_code", "active")
    column_labels = {"name": _l("Nome o studio"), "kind": _l("Tipo"), "email": _l("E-mail"),
                     "pec": _l("PEC"), "tax_code": _l("CF / P. IVA"), "active": _l("Attivo"),
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

    def on_form_prefill(self, form, id):
        links = LawyerCentre.select(LawyerCentre, AspCentre).join(AspCentre).where(LawyerCentre.lawyer == int(id))
        form.centres.data = [link.asp_centre for link in links]

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        for centre in form.centres.data or []:
            if not access.visible_centres(current_user).where(AspCentre.id == centre.id).exists():
                raise ValueError(_l("Centro ASP non consentito."))

    def after_model_change(self, form, model, is_created):
        chosen = {c.id for c in form.centres.data or []}
        if current_user.role == Role.ASP_MANAGER:
            chosen.add(current_user.asp_centre_id)  # a manager's new lawyer works for its centre
        mine = {c.id for c in access.visible_centres(current_user)}
        with db.atomic():
            (LawyerCentre.delete()
             .where(LawyerCentre.lawyer == model, LawyerCentre.asp_centre.in_(mine - chosen)).execute())
            for centre_id in chosen & mine:
                LawyerCentre.insert(lawyer=model, asp_centre=centre_id).on_conflict_ignore().execute()
        log.info("lawyer %s saved by %s, centres %s", model.id, current_user.login, sorted(chosen & mine))


class InsuranceCompanyView(GessinModelView):
    roles = EVERYONE
    column_list = ("name", "claims_email", "claims_pec", "active")
    column_labels = {"name": _l("Denominazione"), "claims_email": _l("E-mail ufficio sinistri"),
                     "claims_pec": _l("PEC ufficio sinistri"), "active": _l("Attiva")}
    column_searchable_list = ("name",)
    column_sortable_list = ("name",)
    column_default_sort = "name"
    form_excluded_columns = ("created_at", "claims")

    def scoped_query(self, user):
        return access.visible_insurers(user)
