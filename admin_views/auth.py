"""Login, logout and the language switch."""
from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired

from models import User, utcnow

from .urls import safe_next as _safe_next  # the one return-address check of the site

bp = Blueprint("auth", __name__)
log = logging.getLogger("gessin.auth")


class LoginForm(FlaskForm):
    login = StringField(_l("Nome utente"), validators=[DataRequired(message=_l("Inserisci il nome utente."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Inserisci la password."))])
    remember = BooleanField(_l("Ricordami su questo computer"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = User.get_or_none(User.login == form.login.data.strip())
        if user is None or not user.check_password(form.password.data):
            log.info("login refused for %r from %s", form.login.data, request.remote_addr)
            flash(_("Nome utente o password errati."), "error")
        elif not user.active:
            log.info("login refused for inactive user %s", user.login)
            flash(_("Questo utente è disattivato. Rivolgiti al call center RESTART."), "error")
        else:
            login_user(user, remember=form.remember.data)
            User.update(last_login_at=utcnow()).where(User.id == user.id).execute()
            log.info("user %s logged in", user.login)
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if request.method == "POST" else 200
    return render_template("login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    log.info("user %s logged out", current_user.login)
    logout_user()
    flash(_("Sei uscito da Gessin."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    if code in ("it", "en"):
        session["language"] = code
        if current_user.is_authenticated:
            User.update(language=code).where(User.id == current_user.id).execute()
    return redirect(_safe_next(request.form.get("next")))
