"""WinCar's HTTP Basic login (the repairer's UserID and password), slowed down after failures.

Failures are the 401s of the intake log. They are counted per UserID and address, and
per UserID (workflows/throttle.py); an address the UserID has posted from before passes
the per-UserID count, so failures elsewhere cannot lock the real repairer out.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import secrets

import peewee as pw
from flask import current_app, request
from werkzeug.security import check_password_hash

from models import IntakeEvent, Repairer, utcnow
from workflows import credentials, throttle

from .problems import ApiProblem

log = logging.getLogger("gessin.intake")


@functools.cache
def _dummy_hash() -> str:
    """Checked when the UserID is unknown, so that case takes as long as a wrong password."""
    return credentials.hash_password(secrets.token_hex(16))


def recent_failures(user: str | None, address: str | None, policy: throttle.Policy, now) -> throttle.Failures:
    """The UserID's recent failures, and those from this address among them: one indexed query."""
    failed = (IntakeEvent.http_status == 401) & (IntakeEvent.received_at >= policy.since(now)) & (
        (IntakeEvent.wincar_user == user) if user else IntakeEvent.wincar_user.is_null())
    at_address = (IntakeEvent.remote_addr == address) if address else pw.SQL("1 = 0")
    count, last, count_here, last_here = (
        IntakeEvent.select(pw.fn.COUNT(IntakeEvent.id), pw.fn.MAX(IntakeEvent.received_at),
                           pw.fn.COUNT(IntakeEvent.id).filter(at_address),
                           pw.fn.MAX(IntakeEvent.received_at).filter(at_address))
        .where(failed).tuples().first())
    when = IntakeEvent.received_at.python_value  # MAX() of a date column comes back as text on SQLite
    failures = throttle.Failures(pair=throttle.Count(count_here or 0, when(last_here)),
                                 login=throttle.Count(count or 0, when(last)))
    if user and address and throttle.needs_known_address(policy, failures, now):
        known = IntakeEvent.select().where(IntakeEvent.wincar_user == user, IntakeEvent.remote_addr == address,
                                           IntakeEvent.http_status < 400).exists()
        failures = dataclasses.replace(failures, known_address=known)
    return failures


def authenticate() -> Repairer:
    auth = request.authorization
    user = auth.username if auth and auth.type == "basic" else None
    address, now = request.remote_addr, utcnow()
    policy = throttle.Policy.from_config(current_app.config)
    failures = recent_failures(user[:64] if user else None, address, policy, now)
    wait = throttle.wait_seconds(policy, failures, now)
    if wait:
        raise ApiProblem(429, f"Troppi tentativi di accesso falliti: riprovare tra {wait} secondi.",
                         headers={"Retry-After": str(wait)})
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
        if throttle.wait_seconds(policy, failures.plus_one(now), now):
            log.warning("WinCar UserID %r locked out from %s after repeated failures", user, address)
        raise ApiProblem(401, "UserID o password WinCar non validi, o carrozzeria non attiva. Controllare le "
                         "credenziali nel profilo «RESTART - Tutte» di WinCar.",
                         headers={"WWW-Authenticate": 'Basic realm="Gessin WinCar", charset="UTF-8"'})
    return repairer
