"""WinCar's HTTP Basic login (the repairer's UserID and password), with a limit on failures."""
from __future__ import annotations

import datetime as dt
import functools
import secrets

import peewee as pw
from flask import current_app, request
from werkzeug.security import check_password_hash

from models import IntakeEvent, Repairer, utcnow
from workflows import credentials

from .problems import ApiProblem


@functools.cache
def _dummy_hash() -> str:
    """Checked when the UserID is unknown, so that case takes as long as a wrong password."""
    return credentials.hash_password(secrets.token_hex(16))


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
        check_password_hash(_dummy_hash(), password)  # as long as a wrong password: no UserID probing
        valid = False
    else:
        valid = check_password_hash(stored, password)
        if valid and not credentials.is_current(stored):
            credentials.rehash(repairer, stored, password)
    if repairer is None or not valid or not repairer.active:
        raise ApiProblem(401, "UserID o password WinCar non validi, o carrozzeria non attiva. Controllare le "
                         "credenziali nel profilo «RESTART - Tutte» di WinCar.",
                         headers={"WWW-Authenticate": 'Basic realm="Gessin WinCar", charset="UTF-8"'})
    return repairer

