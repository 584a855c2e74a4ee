"""Where a page may send the user back to: one check for every `next=` and `url=` it echoes."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import has_request_context, request, url_for
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


class KeptStaticUrls:
    """A view whose static files' addresses (styles, scripts, icons: some twenty a page) are
    built once per process, not with a `url_for` each on every page. `get_url` is where
    Flask-Admin lets a view change how it builds its URLs; a file's address depends only on
    its name, its version argument and where the site is mounted."""

    kept_static: dict[tuple, str] = {}

    def get_url(self, endpoint: str, **kwargs) -> str:
        if not endpoint.endswith(".static") or kwargs.get("_external") or not has_request_context():
            return super().get_url(endpoint, **kwargs)
        key = (request.script_root, endpoint, tuple(sorted(kwargs.items())))
        url = self.kept_static.get(key)
        if url is None:
            url = self.kept_static[key] = super().get_url(endpoint, **kwargs)
        return url
