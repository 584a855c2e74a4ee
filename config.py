"""Configuration from the environment, with safe defaults for a development machine."""
from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_INSTANCE = ROOT / "instance"


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment() -> dict:
    env = os.environ
    instance = Path(env.get("GESSIN_INSTANCE", DEFAULT_INSTANCE))
    return {
        "INSTANCE_DIR": str(instance),
        "SECRET_KEY": _secret_key(instance),
        "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{instance / 'gessin.db'}"),
        "REDIS_URL": env.get("REDIS_URL"),
        "STORAGE_DIR": env.get("STORAGE_DIR", str(instance / "storage")),
        "PUBLIC_URL": env.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        "MAIL_SERVER": env.get("MAIL_SERVER"),
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": env.get("MAIL_USE_TLS", "") in ("1", "true", "yes"),
        "MAIL_USE_SSL": env.get("MAIL_USE_SSL", "") in ("1", "true", "yes"),
        "MAIL_USERNAME": env.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD"),
        "MAIL_RETRY_BASE_SECONDS": float(env.get("MAIL_RETRY_BASE_SECONDS", "15")),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "Gessin RESTART <noreply@gessin.local>"),
        # Flask-Mail's own switches, set rather than left to its defaults (tasks/mailer.py):
        # never smtplib's debug output, which prints the credentials; and sending on with
        # TESTING on, so that the tests deliver to a real SMTP server.
        "MAIL_DEBUG": 0,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_MAX_ATTACHMENT_BYTES": int(env.get("MAIL_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024)),
        "REQUIRED_DOCUMENTS": tuple(filter(None, (k.strip() for k in env.get(
            "REQUIRED_DOCUMENTS", "denuncia,mandato,cessione_credito,richiesta_danni,documento_identita").split(",")))),
        "INTAKE_MAX_BYTES": int(env.get("INTAKE_MAX_BYTES", 25 * 1024 * 1024)),
        "INTAKE_MAX_FILE_BYTES": int(env.get("INTAKE_MAX_FILE_BYTES", 10 * 1024 * 1024)),
        # One upload from the claim page, every file together (each within INTAKE_MAX_FILE_BYTES).
        "UPLOAD_MAX_BYTES": int(env.get("UPLOAD_MAX_BYTES", 30 * 1024 * 1024)),
        # Bulk jobs in the worker: claims per batch (one transaction each), and how long a
        # worker's hold on a job lasts without news before another worker takes it over.
        "BULK_BATCH_SIZE": int(env.get("BULK_BATCH_SIZE", "2500")),
        "BULK_LEASE_SECONDS": float(env.get("BULK_LEASE_SECONDS", "30")),
        # Deadline reminders (tasks/reminders.py): the daily digests go out from this hour, Rome time.
        "REMINDER_DIGEST_HOUR": int(env.get("REMINDER_DIGEST_HOUR", "7")),
        **_cookie_settings(env),
        # Addresses or networks of the reverse proxies whose X-Forwarded-For is believed.
        "TRUSTED_PROXIES": tuple(filter(None, (p.strip() for p in env.get("TRUSTED_PROXIES", "").split(",")))),
    }


def _cookie_settings(env) -> dict:
    """Session and remember-me cookies: Secure in production (https PUBLIC_URL, or asked for)."""
    secure = (env.get("SESSION_COOKIE_SECURE", "") in ("1", "true", "yes")
              or env.get("PUBLIC_URL", "").startswith("https://"))
    return {
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_DURATION": dt.timedelta(days=int(env.get("REMEMBER_COOKIE_DAYS", "14"))),
    }


DEFAULTS = {
    "BABEL_DEFAULT_LOCALE": "it",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Rome",
    "LANGUAGES": ("it", "en"),
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "FLASK_ADMIN_FLUID_LAYOUT": True,
    # Bulk actions on more claims than this run in the worker, with a progress page.
    "BULK_INLINE_LIMIT": 300,
    "MENU_COUNTS_SECONDS": 20,  # how long a user's queue counts in the menu are kept (admin_views/menu_counts.py)
    # A grid's list longer than this is not counted further: a plain pager (admin_views/base.py list_count).
    "LIST_COUNT_CAP": 10_000,
    "CHOICES_SECONDS": 60,  # how long a user's filter drop-downs and bulk lawyers are kept (admin_views/kept.py)
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    # Staff and WinCar logins (workflows/throttle.py): per login and address, and per login,
    # the first failures within the window are free, then each doubles the wait, up to the cap.
    "LOGIN_FREE_FAILURES": 5,
    "LOGIN_FIRST_DELAY_SECONDS": 2,
    "LOGIN_MAX_DELAY_SECONDS": 900,
    "LOGIN_FAILURE_WINDOW_SECONDS": 3600,
    # Staff logins also count an address's failures over every login (password spraying).
    "LOGIN_ADDRESS_FREE_FAILURES": 30,
    "LOGIN_ATTEMPTS_KEEP_DAYS": 90,  # older attempts are forgotten each night, but the last success per address
}
