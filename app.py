"""Gessin: the claims back office of the RESTART network.

`create_app` builds the application; `flask --app app run` serves it and the
commands in `commands/` manage it (create-user, seed-demo, db-upgrade).
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, has_request_context, redirect, session, url_for
from flask_login import current_user

import config as gessin_config
from extensions import babel, csrf, login_manager
from kept_words import install_template_words
from models import User, bind_database, db

ROOT = Path(__file__).resolve().parent


def select_locale() -> str:
    """The user's preferred language, else the one chosen this session, else Italian."""
    languages = ("it", "en")
    if not has_request_context():
        return "it"
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    if session.get("language") in languages:
        return session["language"]
    return "it"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.config.update(gessin_config.DEFAULTS)
    app.config.update(gessin_config.from_environment())
    app.config.update(config or {})
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "translations")

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    Path(app.config["STORAGE_DIR"]).mkdir(parents=True, exist_ok=True)

    if app.config["TRUSTED_PROXIES"]:
        from proxies import TrustedProxyFix
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, app.config["TRUSTED_PROXIES"])

    bind_database(app.config["DATABASE_URL"])
    _connect_per_request(app)

    babel.init_app(app, locale_selector=select_locale)
    install_template_words(app, babel)
    from admin_views.claim_uploads import limit_upload_bodies
    app.before_request(limit_upload_bodies)  # before the CSRF check reads the form
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    _wire_workflows(app)

    import error_pages
    import security_headers
    from admin_views import init_admin
    from admin_views.auth import bp as auth_bp
    from commands import register_commands
    from intake_api import api_error, init_api

    security_headers.init_app(app)
    app.register_blueprint(auth_bp)
    init_admin(app)
    init_api(app)
    error_pages.init_app(app, api_error)
    register_commands(app)

    from flask_babel import get_locale
    app.jinja_env.globals["get_locale"] = get_locale

    @app.route("/")
    def root():
        return redirect(url_for("admin.index"))

    return app


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """`user_id` is the user's session token (see User.get_id): a renewed token ends the session."""
    user = User.by_session_token(user_id) if user_id else None
    return user if user and user.active else None


def _wire_workflows(app: Flask) -> None:
    """Give the plain-Python workflows what they need from the app: settings, e-mail."""
    from tasks import mail as mail_tasks
    from tasks.mailer import mail
    from workflows import checklist, notify

    mail.init_app(app)  # Flask-Mail, which the outbox sends through
    checklist.configure(app.config["REQUIRED_DOCUMENTS"])
    notify.configure(render=mail_tasks.render, dispatch=mail_tasks.dispatch, public_url=app.config["PUBLIC_URL"])


def _connect_per_request(app: Flask) -> None:
    """A connection per request; one found dropped at the first statement is replaced once
    (`models/connections.py`); one lost later makes the request a 503 (`error_pages.py`)."""
    @app.before_request
    def _open():
        db.start_work()

    @app.teardown_request
    def _close(exc):
        if db.is_closed():
            return
        try:
            db.close()
        except Exception as error:  # noqa: BLE001 - a broken connection: forget it, the next request opens one
            logging.getLogger("gessin.database").warning("connection not closed cleanly: %s", error)
            db.dispose()
