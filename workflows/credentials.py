"""WinCar credentials of a repairer: the UserID and password of the "RESTART - Tutte" profile.

New credentials replace the old; only the password's hash is stored. The password is
returned once, to be printed or shown once, and e-mailed to the repairer.
"""
from __future__ import annotations

import logging
import secrets
import string

from werkzeug.security import generate_password_hash

from models import Repairer, db

from . import notify

log = logging.getLogger("gessin.credentials")

_ALPHABET = string.ascii_letters + string.digits


def new_password(length: int = 16) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def issue(repairer: Repairer, user_id: str | None = None, password: str | None = None) -> tuple[str, str]:
    """Give `repairer` new WinCar credentials; returns (UserID, password) in clear, this once."""
    user_id = user_id or repairer.wincar_user or f"R{repairer.vat_number}"
    password = password or new_password()
    with db.atomic():
        Repairer.update(wincar_user=user_id, wincar_password_hash=generate_password_hash(password)) \
            .where(Repairer.id == repairer.id).execute()
        fresh = Repairer.get_by_id(repairer.id)
        notify.queue(None, [fresh.email], "wincar_credentials", repairer=fresh, user_id=user_id, password=password)
    notify.flush()
    log.info("new WinCar credentials issued to repairer %s (UserID %s)", repairer.vat_number, user_id)
    return user_id, password
