"""Security headers and cache control on every response.

A Content-Security-Policy with a fresh nonce per request: every inline <script> and
<style> of ours and of Flask-Admin carries it (`Admin(csp_nonce_generator=csp_nonce)`;
our templates use `csp_nonce()`), so no inline code runs without it. Pages are never
framed, never sniffed, and nothing with a customer's data is kept by a browser or a
proxy cache (pages, downloads, exports, API replies); only the static assets are.
"""
from __future__ import annotations

import secrets

from flask import Flask, current_app, g, request

HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    """This request's nonce (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def policy(nonce: str) -> str:
    """Everything from this site only; inline code only with this request's nonce."""
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def _is_static() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def add_headers(response):
    headers = response.headers
    if "Content-Security-Policy" not in headers:  # a response may set a stricter one (a file opened inline)
        headers["Content-Security-Policy"] = policy(csp_nonce())
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    if current_app.config.get("PUBLIC_URL", "").startswith("https://"):
        headers["Strict-Transport-Security"] = HSTS
    if not _is_static():
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
