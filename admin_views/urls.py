"""Where a page may send the user back to: one check for every `next=` and `url=` it echoes."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for
from flask_admin.helpers import is_safe_url
from werkzeug.routing import IntegerConverter

from models import MAX_ID


def safe_next(target: str | None, fallback: str | None = None) -> str:
    """`target` if it is a path on this site, else `fallback` (the home page by default).

    Flask-Admin's `is_safe_url` (behind its own `url=` return addresses) catches what
    browsers "fix" (backslashes, whitespace in `javascript:`); on top of it only a path
    is accepted, never an address with a scheme or a host, even this one.
    """
    if target and is_safe_url(target):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return fallback or url_for("admin.index")


class IdConverter(IntegerConverter):
    """`<id:claim_id>` in a route: a row id, so a number past the id column's range is a 404."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)
