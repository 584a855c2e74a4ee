"""Portal passwords set by their owners: from a link in an e-mail, never typed by someone else.

A body shop's approval, a staff invitation and "Password dimenticata" each send a link
to `/password/<token>`; the link names the user and a digest of its session token,
which setting the password renews: a link works once, and a later link makes the older
ones useless too.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets

import peewee as pw
from werkzeug.security import generate_password_hash

from models import PasswordResetRequest, User, db, utcnow

from . import links, notify

log = logging.getLogger("gessin.accounts")

# "Password dimenticata": at most this many requests per address, and e-mails per user, an hour.
RESETS_PER_ADDRESS = 5
RESETS_PER_USER = 3
RESET_WINDOW = dt.timedelta(hours=1)


def unusable_password_hash() -> str:
    """A password hash nobody knows: the account opens only once its owner sets a password."""
    return generate_password_hash(secrets.token_urlsafe(32))


def password_link(user: User, purpose: str = "set_password") -> str:
    token = links.make(purpose, {"u": user.id, "s": links.fingerprint(user.session_token)})
    return notify.absolute_url(f"/password/{token}")


def user_for_link(token: str) -> tuple[User, str]:
    """The user a password link is for, and the link's purpose; LinkRefused if it cannot be used."""
    for purpose in ("set_password", "reset_password"):
        try:
            payload = links.read(purpose, token)
        except links.LinkRefused as refused:
            if refused.reason == "expired":
                raise
            continue
        user = User.get_or_none(User.id == payload.get("u")) if isinstance(payload.get("u"), int) else None
        if user is None or not user.active:
            raise links.LinkRefused("invalid")
        if links.fingerprint(user.session_token) != payload.get("s"):
            raise links.LinkRefused("used")
        return user, purpose
    raise links.LinkRefused("invalid")


def set_password_from_link(token: str, password: str) -> User:
    """Check the link and the password (models.users), store it: the link stops working."""
    user, _purpose = user_for_link(token)
    old_token = user.session_token
    user.set_password(password)  # InvalidValue for a short or common password; renews the session token
    changed = User.update(password_hash=user.password_hash, session_token=user.session_token).where(
        User.id == user.id, User.session_token == old_token).execute()
    if not changed:  # the same link used twice at once: only the first wins
        raise links.LinkRefused("used")
    log.info("user %s set their password from an e-mailed link", user.login)
    return user


def request_reset(typed: str, address: str | None, now: dt.datetime | None = None) -> bool:
    """E-mail a reset link to the user whose login or e-mail is `typed`, within the limits.

    The caller answers the same whatever happens; the return value (whether a message
    was written) is for tests and logs only.
    """
    now = now or utcnow()
    typed = (typed or "").strip()[:254]
    if not typed:
        return False
    since = now - RESET_WINDOW
    user = (User.get_or_none(User.login == typed)
            or User.select().where(pw.fn.LOWER(User.email) == typed.lower()).order_by(User.id).first())
    if user is not None and (not user.active or not user.email):
        user = None
    from_address = PasswordResetRequest.select().where(
        PasswordResetRequest.address == address, PasswordResetRequest.created_at >= since).count() if address else 0
    for_user = PasswordResetRequest.select().where(
        PasswordResetRequest.user == user, PasswordResetRequest.created_at >= since).count() if user else 0
    PasswordResetRequest.create(login=typed, address=address, user=user, created_at=now)
    if user is None or from_address >= RESETS_PER_ADDRESS or for_user >= RESETS_PER_USER:
        log.info("password reset asked for %r from %s: no e-mail sent", typed, address)
        return False
    with db.atomic():
        notify.queue(None, [user.email], "password_reset", user=user, link=password_link(user, "reset_password"),
                     hours=links.MAX_AGE["reset_password"] // 3600)
    notify.flush()
    log.info("password reset link e-mailed to user %s", user.login)
    return True


def invite(user: User, actor: str, role_label: str, party: str | None = None) -> list[int]:
    """E-mail `user` the link to choose its first password (the call centre's invitation)."""
    if not user.email:
        raise ValueError("an invitation needs an e-mail address")
    with db.atomic():
        ids = notify.queue(None, [user.email], "invitation", user=user, actor=actor, role=role_label, party=party,
                           link=password_link(user), days=links.MAX_AGE["set_password"] // 86400)
    notify.flush()
    log.info("user %s invited by %s", user.login, actor)
    return ids
