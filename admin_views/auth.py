"""Login, logout and the language switch."""
from __future__ import annotations

import datetime as dt
import logging
import math

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_time, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired

from models import User, utcnow
from workflows import logins, throttle

from .form_base import GessinForm
from .urls import safe_next as _safe_next  # the one return-address check of the site

bp = Blueprint("auth", __name__)
log = logging.getLogger("gessin.auth")


class LoginForm(GessinForm):
    login = StringField(_l("Nome utente"), validators=[DataRequired(message=_l("Inserisci il nome utente."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Inserisci la password."))])
    remember = BooleanField(_l("Ricordami su questo computer"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.index"))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = logins.authenticate(form.login.data, form.password.data, request.remote_addr,
                                      throttle.Policy.from_config(current_app.config),
                                      current_app.config["LOGIN_ADDRESS_FREE_FAILURES"])
        if outcome.throttled:
            flash(_too_many_attempts(outcome.retry_after), "error")
            return render_template("login.html", form=form), 429, {"Retry-After": str(outcome.retry_after)}
        user = outcome.user
        if user is None:
            flash(_("Nome utente o password errati."), "error")
        elif not user.active:
            log.info("login refused for inactive user %s", user.login)
            flash(_("Questo utente è disattivato. Rivolgiti al call center RESTART."), "error")
        else:
            _start_session(user, remember=form.remember.data)
            User.update(last_login_at=utcnow()).where(User.id == user.id).execute()
            log.info("user %s logged in", user.login)
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


def _too_many_attempts(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    at = format_time(utcnow() + dt.timedelta(seconds=seconds), "HH:mm")
    return ngettext("Troppi tentativi di accesso non riusciti. Per sicurezza riprova tra %(num)d minuto "
                    "(alle %(time)s).",
                    "Troppi tentativi di accesso non riusciti. Per sicurezza riprova tra %(num)d minuti "
                    "(alle %(time)s).", minutes, time=at)


def _start_session(user: User, remember: bool) -> None:
    """A fresh session: nothing set before the login (but the language) survives it."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    user.open_device()
    login_user(user, remember=remember)


def _end_session() -> None:
    language = session.get("language")
    session.clear()
    logout_user()  # after the clear: it leaves in the session the order to delete the remember-me cookie
    if language:
        session["language"] = language


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Leave Gessin on this device: its session ends, the user's other devices stay logged in."""
    logins.end_device(current_user)
    log.info("user %s logged out", current_user.login)
    _end_session()
    flash(_("Sei uscito da Gessin."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout/everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    logins.end_sessions(current_user, "logout from every device")
    _end_session()
    flash(_("Sei uscito da Gessin su tutti i dispositivi."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    if code in ("it", "en"):
        session["language"] = code
        if current_user.is_authenticated:
            User.update(language=code).where(User.id == current_user.id).execute()
    return redirect(_safe_next(request.form.get("next")))
