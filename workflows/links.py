"""Signed, expiring links sent by e-mail: confirming an address, setting a password.

A link carries a purpose and a few ids, signed with the app's secret key (itsdangerous)
and timed. It is single-use by what it names, not by a table of used links: a
registration link names a request still waiting for its confirmation, a password link
names the user's current session token (hashed), which setting the password renews.
"""
from __future__ import annotations

import hashlib
import time

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

# How long each kind of link stays valid, in seconds.
MAX_AGE = {
    "confirm_registration": 48 * 3600,
    "set_password": 7 * 24 * 3600,   # an approved body shop's or an invited user's first password
    "reset_password": 3600,
}

_settings = {"secret": None}


class LinkRefused(Exception):
    """Why a link cannot be used: 'expired', 'invalid' (tampered, wrong purpose) or 'used'."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def configure(secret: str) -> None:
    _settings["secret"] = secret


class _Signer(TimestampSigner):
    issued_at: int | None = None

    def get_timestamp(self) -> int:
        return self.issued_at if self.issued_at is not None else int(time.time())


def _serializer(purpose: str, issued_at: int | None = None) -> URLSafeTimedSerializer:
    if not _settings["secret"]:
        raise RuntimeError("workflows.links is not configured")
    signer = type("Signer", (_Signer,), {"issued_at": issued_at})
    return URLSafeTimedSerializer(_settings["secret"], salt=f"gessin-{purpose}", signer=signer)


def make(purpose: str, payload: dict, issued_at: float | None = None) -> str:
    """A token for `purpose`; `issued_at` (seconds since the epoch) only for tests of expiry."""
    if purpose not in MAX_AGE:
        raise ValueError(purpose)
    return _serializer(purpose, int(issued_at) if issued_at is not None else None).dumps(payload)


def read(purpose: str, token: str) -> dict:
    """The payload of a valid, unexpired token for `purpose`; LinkRefused otherwise."""
    try:
        payload = _serializer(purpose).loads(token or "", max_age=MAX_AGE[purpose])
    except SignatureExpired:
        raise LinkRefused("expired")
    except BadSignature:
        raise LinkRefused("invalid")
    if not isinstance(payload, dict):
        raise LinkRefused("invalid")
    return payload


def fingerprint(secret_value: str) -> str:
    """A short digest of a secret (a session token) to put in a link instead of the secret."""
    return hashlib.sha256(secret_value.encode()).hexdigest()[:24]
