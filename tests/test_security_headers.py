"""Security headers and cache control on every response, and the Italian error pages."""
from __future__ import annotations

import re

from models import Role

from .conftest import login
from .test_intake import payload, post, shop  # noqa: F401 - fixture
from .test_scope import world  # noqa: F401 - fixture


def assert_protected(response, *, cached=False):
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'"):
        assert directive in policy, directive
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    if not cached:
        assert headers["Cache-Control"] == "no-store"
    return policy


def nonce_of(policy: str) -> str:
    return re.search(r"'nonce-([^']+)'", policy).group(1)


def test_every_page_download_and_export_is_protected_and_not_stored(client, world):
    login(client, world.users["asp_manager"])
    for path in ("/admin/", "/admin/claim/", f"/admin/claim/details/?id={world.mine_entrusted.id}",
                 f"/admin/claim/attachment/{world.my_doc.id}", "/admin/claim/export/csv/", "/admin/lawyer/",
                 "/admin/nowhere"):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        assert_protected(response)


def test_the_login_page_and_the_api_replies_are_protected(client, shop):
    assert_protected(client.get("/login"))
    assert_protected(post(client, payload(shop[0])))
    assert_protected(client.get("/api/v1/openapi.json"))
    assert_protected(client.get("/api/v1/nowhere"))


def test_static_assets_may_be_cached(client):
    response = client.get("/admin/static/vendor/jquery.min.js")
    assert response.status_code == 200
    assert_protected(response, cached=True)
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_every_inline_script_and_style_carries_the_nonce_of_its_response(client, world):
    login(client, world.users["asp_manager"])
    for path in ("/admin/claim/", f"/admin/claim/details/?id={world.mine_entrusted.id}",
                 f"/admin/claim/edit/?id={world.mine_entrusted.id}", "/admin/"):
        response = client.get(path)
        nonce, page = nonce_of(response.headers["Content-Security-Policy"]), response.get_data(as_text=True)
        tags = re.findall(r"<(?:script|style)\b[^>]*>", page)
        assert tags, path
        for tag in tags:
            assert f'nonce="{nonce}"' in tag, (path, tag)
        assert not re.search(r"\son[a-z]+\s*=", page), path  # no inline event handler
    other = nonce_of(client.get("/admin/claim/").headers["Content-Security-Policy"])
    assert other != nonce  # a new nonce on every response


def test_login_and_error_pages_have_no_inline_code_without_the_nonce(client):
    for response in (client.get("/login"), client.get("/nowhere")):
        nonce, page = nonce_of(response.headers["Content-Security-Policy"]), response.get_data(as_text=True)
        assert 'style="' not in page and not re.search(r"\son[a-z]+\s*=", page)
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", page):
            assert f'nonce="{nonce}"' in tag


def test_hsts_only_when_the_site_is_served_over_https(client, app, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://gessin.example.it")
    assert client.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")


# ---- Italian error pages ------------------------------------------------------------------

def test_people_get_italian_error_pages(client, f, app, monkeypatch):
    repairer = f.user(Role.REPAIRER, repairer=f.repairer())
    assert "Pagina non trovata" in client.get("/nowhere").get_data(as_text=True)
    response = client.post("/login", data={"login": "x", "password": "y"})  # no CSRF token
    assert response.status_code == 400 and "Il modulo è scaduto" in response.get_data(as_text=True)
    response = client.get("/logout")
    assert response.status_code == 405 and "Operazione non ammessa" in response.get_data(as_text=True)
    assert response.headers["Allow"].startswith(("OPTIONS, POST", "POST"))
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = client.post("/login", data={"login": "x" * 2000, "password": "y"})
    assert response.status_code == 413 and "Invio troppo grande" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", None)
    login(client, repairer)
    response = client.get("/admin/user/")
    assert response.status_code == 403 and "Accesso non consentito" in response.get_data(as_text=True)


def test_an_internal_error_gets_an_italian_page(client, f, app, monkeypatch):
    from admin_views import home

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")
    monkeypatch.setattr(home.dashboard, "for_user", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    login(client, f.user(Role.ADMIN))
    response = client.get("/admin/")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Errore interno" in text and "database gone" not in text
    assert_protected(response)


def test_the_api_keeps_its_problem_details(client, app, monkeypatch):
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert response.json["detail"].startswith("Indirizzo non trovato")
    response = client.get("/api/v1/claims")
    assert response.status_code == 405 and response.json["title"] == "Metodo non ammesso"
