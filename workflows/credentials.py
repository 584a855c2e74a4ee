"""WinCar credentials of a repairer: the UserID and password of the "RESTART - Tutte" profile.

New credentials replace the old; only the password's hash is stored. The password is
returned once, to be printed or shown once, and e-mailed to the repairer.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import string

from werkzeug.security import generate_password_hash

from models import Repairer, db

from . import notify

log = logging.getLogger("gessin.credentials")

_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 16  # of 62 symbols: about 95 bits

# WinCar passwords are machine credentials the portal generates, and WinCar sends one
# with every claim. A deliberately slow hash (scrypt, ~150 ms of CPU) adds nothing for
# a secret that cannot be guessed, and it would be paid on almost every post, as a
# repairer's posts come minutes or hours apart. They are stored the way API tokens
# are: salted HMAC-SHA256 (PBKDF2 with one round, werkzeug's format). Users' own
# passwords keep werkzeug's slow default (models.users).
HASH_METHOD = "pbkdf2:sha256:1"


def new_password(length: int = PASSWORD_LENGTH) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def fingerprint(repairer: Repairer) -> str:
    """A short digest naming the repairer's present credentials (never the password): a
    form that replaces them carries it, so that sent twice it replaces them only once."""
    stored = f"{repairer.wincar_user or ''}:{repairer.wincar_password_hash or ''}"
    return hashlib.sha256(stored.encode()).hexdigest()[:16]


def is_current(stored_hash: str) -> bool:
    """Whether a stored hash is in today's format (older ones are replaced at the next login)."""
    return stored_hash.startswith(HASH_METHOD + "$")


def rehash(repairer: Repairer, stored_hash: str, password: str) -> None:
    """After a login checked against an older (slow) hash: store the password in today's format."""
    Repairer.update(wincar_password_hash=hash_password(password)).where(
        Repairer.id == repairer.id, Repairer.wincar_password_hash == stored_hash).execute()


def issue(repairer: Repairer, user_id: str | None = None, password: str | None = None) -> tuple[str, str]:
    """Give `repairer` new WinCar credentials; returns (UserID, password) in clear, this once.

    The password is generated unless given (tests, benchmarks); a given one must be as
    long as a generated one, as it is stored with a fast hash.
    """
    with db.atomic():
        user_id, password = assign(repairer, user_id, password)
        fresh = Repairer.get_by_id(repairer.id)
        notify.queue(None, [fresh.email], "wincar_credentials", repairer=fresh, user_id=user_id, password=password)
    notify.flush()
    log.info("new WinCar credentials issued to repairer %s (UserID %s)", repairer.vat_number, user_id)
    return user_id, password


def assign(repairer: Repairer, user_id: str | None = None, password: str | None = None) -> tuple[str, str]:
    """Store new credentials without telling anyone (the caller e-mails them); returns them in clear."""
    user_id = user_id or repairer.wincar_user or f"R{repairer.vat_number}"
    if password is not None and len(password) < PASSWORD_LENGTH:
        raise ValueError(f"a WinCar password has at least {PASSWORD_LENGTH} characters")
    password = password or new_password()
    Repairer.update(wincar_user=user_id, wincar_password_hash=hash_password(password)) \
        .where(Repairer.id == repairer.id).execute()
    return user_id, password
