"""Believe X-Forwarded-For (and -Proto) only from the reverse proxies named in TRUSTED_PROXIES.

Without it every client behind a proxy shares the proxy's address; with a blanket
ProxyFix any client could claim any address (and escape the login throttle).
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxyFix(ProxyFix):
    """werkzeug's ProxyFix, applied only when the direct peer is a trusted proxy."""

    def __init__(self, app, trusted: Iterable[str], x_for: int = 1, x_proto: int = 1, **kwargs):
        super().__init__(app, x_for=x_for, x_proto=x_proto, **kwargs)
        self.trusted = tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)

    def is_trusted(self, address: str | None) -> bool:
        try:
            peer = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(peer in network for network in self.trusted)

    def __call__(self, environ, start_response):
        if self.is_trusted(environ.get("REMOTE_ADDR")):
            return super().__call__(environ, start_response)
        return self.app(environ, start_response)
