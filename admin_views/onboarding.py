"""Grids of onboarding: registration requests (approve / reject), the privacy notice's
versions, and the ASP centres each body shop works with."""
from __future__ import annotations

import logging

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from models import PrivacyNotice, RegistrationRequest, RepairerCentre, Role
from workflows import registration
from workflows.errors import WorkflowError

from .base import GessinModelView
from .formatters import column, when
from .system import ReadOnlyView

log = logging.getLogger("gessin.admin")

STATUS_LABELS = dict(RegistrationRequest.STATUSES)


class RegistrationRequestView(ReadOnlyView):
    """"Richieste di registrazione": the call centre's and the chosen ASP centre's."""
    changes_choices = True  # a POST here forgets all that is kept, for everyone (admin_views/kept.py)

    roles = (Role.ADMIN, Role.ASP_MANAGER)
    column_list = ("created_at", "name", "vat_number", "asp_centre", "contact_person", "email", "phone", "status",
                   "decided_at")
    column_labels = {"created_at": _l("Ricevuta il"), "name": _l("Ragione sociale"), "vat_number": _l("Partita IVA"),
                     "asp_centre": _l("Centro ASP"), "contact_person": _l("Referente"), "email": _l("E-mail"),
                     "phone": _l("Telefono"), "status": _l("Stato"), "decided_at": _l("Decisa il")}
    column_details_exclude_list = column_export_exclude_list = ("remote_addr",)
    column_searchable_list = ("name", "vat_number", "email")
    column_sortable_list = ("created_at", "name", "status")
    column_default_sort = ("created_at", True)
    column_filters = ("status",)
    list_select_related = (RegistrationRequest.asp_centre,)
    column_formatters = {
        "created_at": column(when), "decided_at": column(when),
        "status": lambda v, c, m, n: STATUS_LABELS.get(m.status, m.status),
        "name": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            v.get_url(".decide", request_id=m.id), m.name),
    }
    column_formatters_export = {"status": lambda v, c, m, n: STATUS_LABELS.get(m.status, m.status)}

    def scoped_query(self, user):
        return registration.visible_requests(user)

    @expose("/decide/<id:request_id>", methods=("GET", "POST"))
    def decide(self, request_id):
        user = current_user._get_current_object()
        row = registration.visible_requests(user).where(RegistrationRequest.id == request_id).first()
        if row is None:
            abort(404)
        errors = {}
        if request.method == "POST":
            decision = request.form.get("decision")
            try:
                if decision == "approve":
                    repairer, login = registration.approve(row.id, user)
                    flash(_("Richiesta approvata: %(name)s è registrata con il nome utente %(login)s; credenziali "
                            "WinCar e collegamento per la password sono stati inviati a %(email)s.",
                            name=repairer.name, login=login.login, email=repairer.email), "success")
                    return redirect(self.get_url(".decide", request_id=row.id))
                if decision == "reject":
                    registration.reject(row.id, user, request.form.get("reason", ""))
                    flash(_("Richiesta respinta: il motivo è stato inviato a %(email)s.", email=row.email), "success")
                    return redirect(self.get_url(".decide", request_id=row.id))
                abort(400)
            except WorkflowError as exc:
                errors[exc.field] = str(exc.message)
                if exc.field != "reason":
                    flash(str(exc.message), "error")
        row = RegistrationRequest.get_by_id(row.id)
        return self.render("admin/registration_decide.html", row=row, errors=errors,
                           status_label=STATUS_LABELS.get(row.status, row.status),
                           reason=request.form.get("reason", ""), return_url=self.get_url(".index_view")), \
            422 if errors else 200


class PrivacyNoticeView(GessinModelView):
    """The privacy notice of the registration page: each change is a new version, kept as written."""

    roles = create_roles = (Role.ADMIN,)
    edit_roles = delete_roles = ()
    column_list = ("version", "title", "created_at")
    column_labels = {"version": _l("Versione"), "title": _l("Titolo"), "text": _l("Testo"),
                     "created_at": _l("Pubblicata il")}
    column_default_sort = ("version", True)
    column_formatters = {"created_at": column(when)}
    form_columns = ("title", "text")

    def scoped_query(self, user):
        return PrivacyNotice.select()

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if is_created:
            model.version = registration.next_notice_version()

    def after_model_change(self, form, model, is_created):
        log.info("privacy notice version %s published by %s", model.version, current_user.login)


class RepairerCentreView(GessinModelView):
    """Which ASP centres each body shop works with: a centre's manager opens files for them."""
    changes_choices = True  # a POST here forgets all that is kept, for everyone (admin_views/kept.py)

    roles = create_roles = delete_roles = (Role.ADMIN,)
    edit_roles = ()
    column_list = ("repairer", "asp_centre", "created_at")
    column_labels = {"repairer": _l("Carrozzeria"), "asp_centre": _l("Centro ASP"), "created_at": _l("Dal")}
    column_formatters = {"created_at": column(when)}
    column_default_sort = ("created_at", True)
    list_select_related = (RepairerCentre.repairer, RepairerCentre.asp_centre)
    form_columns = ("repairer", "asp_centre")

    def scoped_query(self, user):
        return RepairerCentre.select()


def init_onboarding(app, admin, registry, system) -> None:
    """The public pages (registration, password links) and the onboarding grids."""
    from workflows import links

    from . import wincar_setup
    from .registration import bp

    links.configure(app.config["SECRET_KEY"])
    app.register_blueprint(bp)
    admin.add_view(RegistrationRequestView(RegistrationRequest, name=_l("Richieste di registrazione"),
                                           category=registry, endpoint="registration", url="/admin/registration"))
    admin.add_view(RepairerCentreView(RepairerCentre, name=_l("Centri delle carrozzerie"), category=registry,
                                      endpoint="repairer_centre", url="/admin/repairer-centre"))
    wincar_setup.add_view(admin)
    admin.add_view(PrivacyNoticeView(PrivacyNotice, name=_l("Informativa privacy"), category=system,
                                     endpoint="privacy_notice", url="/admin/privacy-notice"))
