"""WinCar's HTTP Basic login (the repairer's UserID and password), with a limit on failures."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
import threading
import time

import peewee as pw
from flask import current_app, request
from werkzeug.security import check_password_hash, generate_password_hash

from models import IntakeEvent, Repairer, utcnow

from .problems import ApiProblem


@functools.cache
def _dummy_hash() -> str:
    """Checked when the UserID is unknown, so that case takes as long as a wrong password."""
    return generate_password_hash(secrets.token_hex(16))


def too_many_failures(user: str | None, address: str | None) -> bool:
    """Too many failed logins lately for this UserID or from this address (one query)."""
    window = utcnow() - dt.timedelta(seconds=current_app.config["INTAKE_LOCKOUT_SECONDS"])
    limit = current_app.config["INTAKE_MAX_FAILURES"]
    never = pw.SQL("1 = 0")  # no UserID (or no address) sent: nothing to count for it
    is_user = (IntakeEvent.wincar_user == user) if user else never
    is_address = (IntakeEvent.remote_addr == address) if address else never
    counts = (IntakeEvent.select(pw.fn.SUM(pw.Case(None, [(is_user, 1)], 0)),
                                 pw.fn.SUM(pw.Case(None, [(is_address, 1)], 0)))
              .where(IntakeEvent.http_status == 401, IntakeEvent.received_at >= window, is_user | is_address)
              .tuples().first())
    return any((count or 0) >= limit for count in counts or ())


_VERIFIED: dict[tuple[str, str, bytes], float] = {}
_VERIFIED_LOCK = threading.Lock()
VERIFIED_SECONDS = 600


def _password_ok(user: str, stored: str, password: str) -> bool:
    """scrypt on the first login, then a keyed digest for ten minutes in this process.

    WinCar sends the password with every claim; scrypt takes ~150 ms on purpose, which
    would be most of each request. A success is remembered under the stored hash, so new
    credentials (a new hash) end it at once; failures are always checked in full.
    """
    key = (user, stored, hmac.new(current_app.secret_key.encode(), password.encode(), hashlib.sha256).digest())
    now = time.monotonic()
    with _VERIFIED_LOCK:
        if _VERIFIED.get(key, 0) > now:
            return True
    if not check_password_hash(stored, password):
        return False
    with _VERIFIED_LOCK:
        if len(_VERIFIED) > 10_000:
            _VERIFIED.clear()
        _VERIFIED[key] = now + VERIFIED_SECONDS
    return True


def authenticate() -> Repairer:
    auth = request.authorization
    user = auth.username if auth and auth.type == "basic" else None
    if too_many_failures(user, request.remote_addr):
        raise ApiProblem(429, "Troppi tentativi di accesso falliti: riprovare tra qualche minuto.",
                         headers={"Retry-After": str(current_app.config["INTAKE_LOCKOUT_SECONDS"])})
    repairer = Repairer.get_or_none(Repairer.wincar_user == user) if user else None
    password = (auth.password or "") if auth else ""
    stored = repairer.wincar_password_hash if repairer and repairer.wincar_password_hash else None
    if stored is None:
        check_password_hash(_dummy_hash(), password)  # as slow as a wrong password: no UserID probing
        valid = False
    else:
        valid = _password_ok(user, stored, password)
    if repairer is None or not valid or not repairer.active:
        raise ApiProblem(401, "UserID o password WinCar non validi, o carrozzeria non attiva. Controllare le "
                         "credenziali nel profilo «RESTART - Tutte» di WinCar.",
                         headers={"WWW-Authenticate": 'Basic realm="Gessin WinCar", charset="UTF-8"'})
    return repairer
