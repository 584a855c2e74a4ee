"""Public pages: a body shop's registration, its e-mail confirmation, setting a password
from an e-mailed link, and "Password dimenticata". Standalone pages, like the login."""
from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from models import InvalidValue
from workflows import accounts, links, registration
from workflows.errors import InvalidData

from .form_base import GessinForm

bp = Blueprint("onboarding", __name__)
log = logging.getLogger("gessin.registration")

# The honeypot: a field people never see (hidden by the page's style) that robots fill in.
HONEYPOT = "sito_web"

LINK_REFUSED = {
    "expired": _l("Il collegamento è scaduto."),
    "used": _l("Il collegamento è già stato usato."),
    "invalid": _l("Il collegamento non è valido: copiatelo per intero dal messaggio e-mail."),
}

FIELD_LABELS = {
    "name": _l("Ragione sociale"), "vat_number": _l("Partita IVA"), "fiscal_code": _l("Codice fiscale"),
    "address": _l("Indirizzo"), "email": _l("E-mail"), "pec": _l("PEC"), "phone": _l("Telefono"),
    "contact_person": _l("Referente"),
}


class PlainForm(GessinForm):
    """Just the CSRF token: the fields are read from the request and checked by the workflow."""


class PasswordForm(GessinForm):
    password = PasswordField(_l("Nuova password"), validators=[DataRequired(message=_l("Scegli una password."))])
    repeat = PasswordField(_l("Ripeti la password"), validators=[DataRequired(message=_l("Ripeti la password."))])


class ForgotForm(GessinForm):
    login = StringField(_l("Nome utente o e-mail"),
                        validators=[DataRequired(message=_l("Indica il nome utente o l'e-mail."))])


def _refused(refused: links.LinkRefused, again: str):
    """A link that cannot be used: 410 once expired or used, 404 if it never was a link of ours."""
    return render_template("registration/link_refused.html", message=LINK_REFUSED[refused.reason],
                           again=again), 404 if refused.reason == "invalid" else 410


def _errors_by_field(exc: InvalidData) -> dict:
    errors: dict = {}
    for field, message in exc.errors:
        errors.setdefault(field, []).append(str(message))
    return errors


@bp.route("/registrazione", methods=["GET", "POST"])
def register():
    form, errors, status = PlainForm(), {}, 200
    values = {name: request.form.get(name, "") for name in (*FIELD_LABELS, "asp_centre")}
    if request.method == "POST" and form.validate_on_submit():
        if request.form.get(HONEYPOT):
            log.info("registration from %s dropped: honeypot filled", request.remote_addr)
            return render_template("registration/sent.html", email=values["email"])
        try:
            sent = registration.submit(values, values["asp_centre"], request.form.get("privacy_version"),
                                       request.form.get("privacy") == "1", request.remote_addr)
        except InvalidData as exc:
            errors, status = _errors_by_field(exc), 422
        except registration.TooManyRequests as exc:
            errors, status = {None: [str(exc.message)]}, 429
        else:
            return render_template("registration/sent.html", email=sent.email)
    elif request.method == "POST":
        errors, status = {None: [_("Il modulo è scaduto: ricarica la pagina e invialo di nuovo.")]}, 400
    return render_template("registration/form.html", form=form, values=values, errors=errors, labels=FIELD_LABELS,
                           centres=list(registration.active_centres()), notice=registration.current_notice(),
                           honeypot=HONEYPOT), status


@bp.route("/registrazione/conferma/<token>")
def confirm(token: str):
    try:
        sent = registration.confirm(token)
    except links.LinkRefused as refused:
        return _refused(refused, url_for(".register"))
    return render_template("registration/confirmed.html", request_=sent)


@bp.route("/password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    try:
        user, _purpose = accounts.user_for_link(token)
    except links.LinkRefused as refused:
        return _refused(refused, url_for(".forgot_password"))
    form, status = PasswordForm(), 200
    if form.validate_on_submit():
        if form.password.data != form.repeat.data:
            form.repeat.errors = [_("Le due password non coincidono.")]
        else:
            try:
                accounts.set_password_from_link(token, form.password.data)
            except InvalidValue as exc:
                form.password.errors = [str(exc.message)]
            except links.LinkRefused as refused:
                return _refused(refused, url_for(".forgot_password"))
            else:
                flash(_("Password impostata: ora puoi accedere con il nome utente %(login)s.", login=user.login),
                      "success")
                return redirect(url_for("auth.login"))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template("registration/password.html", form=form, user=user), status


@bp.route("/password-dimenticata", methods=["GET", "POST"])
def forgot_password():
    if current_user.is_authenticated:
        return redirect(url_for("admin.index"))
    form = ForgotForm()
    if form.validate_on_submit():
        accounts.request_reset(form.login.data, request.remote_addr)
        flash(_("Se il nome utente o l'e-mail corrisponde a un accesso attivo, riceverai a breve un messaggio con "
                "il collegamento per scegliere una nuova password."), "info")
        return redirect(url_for("auth.login"))
    return render_template("registration/forgot.html", form=form), 422 if request.method == "POST" else 200
