"""Staff logins: the password check, slowed down after failures, and the end of sessions.

Every attempt is recorded (login as typed, address, success). A login that does not
exist is checked against a dummy hash and throttled like a real one, so neither the
time taken nor a wait tells whether it exists.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import peewee as pw

from models import LoginAttempt, User, UserSession, db, utcnow
from models.users import check_no_password

from . import throttle

log = logging.getLogger("gessin.auth")


@dataclasses.dataclass(frozen=True)
class Outcome:
    user: User | None = None      # set when the password is right (the user may be inactive)
    retry_after: int = 0          # seconds to wait, when the attempt was not even checked

    @property
    def throttled(self) -> bool:
        return self.retry_after > 0


def authenticate(login: str, password: str, address: str | None, policy: throttle.Policy,
                 address_free: int) -> Outcome:
    login = (login or "").strip()[:64]
    now = utcnow()
    failures = recent_failures(login, address, policy, now, address_free)
    wait = throttle.wait_seconds(policy, failures, now, address_free)
    if wait:
        log.info("login attempt for %r from %s held back %d s", login, address, wait)
        return Outcome(retry_after=wait)
    user = User.get_or_none(User.login == login)
    valid = user.check_password(password) if user is not None else check_no_password(password)
    LoginAttempt.create(login=login, address=address, success=valid, created_at=now)
    if valid:
        return Outcome(user=user)
    wait = throttle.wait_seconds(policy, failures.plus_one(now), now, address_free)
    if wait:
        log.warning("login %r locked out from %s for %d s after repeated failures", login, address, wait)
    else:
        log.info("login refused for %r from %s", login, address)
    return Outcome()


def recent_failures(login: str, address: str | None, policy: throttle.Policy, now, address_free: int
                    ) -> throttle.Failures:
    since = policy.since(now)
    failed = (LoginAttempt.success == False) & (LoginAttempt.created_at >= since)  # noqa: E712
    at_address = (LoginAttempt.address == address) if address else pw.SQL("1 = 0")
    row = (LoginAttempt.select(pw.fn.COUNT(LoginAttempt.id), pw.fn.MAX(LoginAttempt.created_at),
                               pw.fn.COUNT(LoginAttempt.id).filter(at_address),
                               pw.fn.MAX(LoginAttempt.created_at).filter(at_address))
           .where(failed, LoginAttempt.login == login).tuples().first())
    by_address = throttle.Count()
    if address:
        count, last = (LoginAttempt.select(pw.fn.COUNT(LoginAttempt.id), pw.fn.MAX(LoginAttempt.created_at))
                       .where(failed, LoginAttempt.address == address).tuples().first())
        by_address = throttle.Count(count or 0, _when(last))
    failures = throttle.Failures(pair=throttle.Count(row[2] or 0, _when(row[3])),
                                 login=throttle.Count(row[0] or 0, _when(row[1])), address=by_address)
    if address and throttle.needs_known_address(policy, failures, now, address_free):
        known = LoginAttempt.select().where(LoginAttempt.login == login, LoginAttempt.address == address,
                                            LoginAttempt.success == True).exists()  # noqa: E712
        failures = dataclasses.replace(failures, known_address=known)
    return failures


def purge_attempts(now, keep_days: int) -> int:
    """Forget the attempts older than `keep_days`, but each login's last success from each
    address (the last recorded: attempts are written as they happen), which makes the
    address known (`recent_failures`); returns how many went.
    The throttle reads an hour back: the rest is kept only to tell what happened."""
    cutoff = now - dt.timedelta(days=keep_days)
    last_successes = (LoginAttempt.select(pw.fn.MAX(LoginAttempt.id))
                      .where(LoginAttempt.success == True)  # noqa: E712
                      .group_by(LoginAttempt.login, LoginAttempt.address))
    gone = (LoginAttempt.delete()
            .where(LoginAttempt.created_at < cutoff, LoginAttempt.id.not_in(last_successes)).execute())
    log.info("login attempts older than %d days forgotten: %d", keep_days, gone)
    return gone


def _when(value):
    """MAX() of a date column comes back as text on SQLite."""
    return LoginAttempt.created_at.python_value(value)


def end_sessions(user: User, reason: str) -> None:
    """Every session and remember-me cookie of `user` stops working (a new session token), on every device."""
    user.renew_session_token()
    with db.atomic():
        User.update(session_token=user.session_token).where(User.id == user.id).execute()
        UserSession.delete().where(UserSession.user == user.id).execute()
    log.info("sessions of user %s ended (%s)", user.login, reason)


def end_device(user: User) -> None:
    """The session of the device this request comes from ends, and its cookies with it; the
    user's other devices stay logged in."""
    UserSession.delete().where(UserSession.user == user.id, UserSession.token == user.device_token).execute()
    log.info("user %s left one device", user.login)


def purge_devices(now: dt.datetime, keep: dt.timedelta) -> int:
    """Forget the devices logged in longer ago than `keep` (the remember-me cookie's life):
    those still open log in again."""
    gone = UserSession.delete().where(UserSession.created_at < now - keep).execute()
    log.info("device logins older than %s forgotten: %d", keep, gone)
    return gone
