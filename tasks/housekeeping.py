"""Daily housekeeping: the tables that only grow are trimmed to what is still needed."""
from __future__ import annotations

from huey import crontab

from models import utcnow
from workflows import logins

from . import database, flask_app, huey


@huey.periodic_task(crontab(minute="40", hour="3"))
@huey.lock_task("housekeeping")
def housekeeping() -> None:
    """Staff login attempts older than `LOGIN_ATTEMPTS_KEEP_DAYS`, and device logins older than
    the remember-me cookie (workflows/logins.py)."""
    app = flask_app()
    with app.app_context(), database():
        logins.purge_attempts(utcnow(), app.config["LOGIN_ATTEMPTS_KEEP_DAYS"])
        logins.purge_devices(utcnow(), app.config["REMEMBER_COOKIE_DURATION"])
