"""Logins: Italian page, hashed passwords, inactive users refused, CSRF on forms."""
from __future__ import annotations

from models import Role, User

from .conftest import csrf_token, login


def test_the_login_page_speaks_italian(client, app):
    page = client.get("/login").get_data(as_text=True)
    assert "Nome utente" in page and "Accedi" in page and 'lang="it"' in page


def test_a_wrong_password_is_refused_in_italian(client, f):
    user = f.user()
    response = client.post("/login", data={"login": user.login, "password": "sbagliata",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 401
    assert "Nome utente o password errati." in response.get_data(as_text=True)
    assert client.get("/admin/claim/").status_code == 302


def test_an_inactive_user_cannot_log_in(client, f):
    user = f.user(active=False)
    response = client.post("/login", data={"login": user.login, "password": f.PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 401
    assert "disattivato" in response.get_data(as_text=True)


def test_a_user_deactivated_while_logged_in_is_logged_out(client, f):
    user = f.user()
    login(client, user)
    assert client.get("/admin/").status_code == 200
    User.update(active=False).where(User.id == user.id).execute()
    assert client.get("/admin/").status_code == 302


def test_a_post_without_csrf_token_is_refused(client, f):
    user = f.user()
    response = client.post("/login", data={"login": user.login, "password": f.PASSWORD})
    assert response.status_code == 400
    login(client, user)
    response = client.post("/admin/insurer/new/", data={"name": "Senza token"})
    assert response.status_code == 400


def test_login_redirects_only_within_the_site(client, f):
    user = f.user()
    response = client.post("/login?next=https://evil.example/", data={
        "login": user.login, "password": f.PASSWORD, "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/admin/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    response = client.post("/login?next=/admin/claim/", data={
        "login": user.login, "password": f.PASSWORD, "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/admin/claim/"


def test_logout_ends_the_session(client, f):
    login(client, f.user())
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_english_is_available_and_remembered(client, f):
    user = f.user(role=Role.ADMIN)
    login(client, user)
    assert "Pratiche" in client.get("/admin/").get_data(as_text=True)
    client.post("/language/en", data={"csrf_token": csrf_token(client, "/admin/"), "next": "/admin/"})
    page = client.get("/admin/").get_data(as_text=True)
    assert "Claims" in page and "Pratiche per stato" not in page
    assert User.get_by_id(user.id).language == "en"


def test_the_claim_pages_render_in_english_too(client, f):
    from models import Role
    centre = f.centre()
    claim = f.claim(f.repairer(), centre)
    user = f.user(role=Role.ASP_MANAGER, asp_centre=centre, language="en")
    login(client, user)
    for path in ("/admin/claim/", f"/admin/claim/details/?id={claim.id}", "/admin/queue/to-validate/",
                 "/admin/lawyer/", "/admin/outbox/"):
        response = client.get(path)
        assert response.status_code == 200, path
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "Received" in page and "Attachments" in page and "Ricevuta il" not in page


def test_the_users_row_is_read_by_a_statement_built_once(client, f, monkeypatch):
    """Flask-Login loads the user on every request: peewee builds that SELECT once, not each time."""
    from models import User, UserSession, base

    user = f.user(Role.ADMIN, login="built-once")
    login(client, user)
    built = []
    select = User.select
    monkeypatch.setattr(base, "_BUILT", {})
    monkeypatch.setattr(User, "select", classmethod(lambda cls, *fields: built.append(fields) or select(*fields)))
    for _ in range(3):
        assert client.get("/admin/").status_code == 200
    device = UserSession.get(UserSession.user == user.id).token
    assert User.by_session_token(f"{user.session_token}.{device}").login == "built-once"
    assert User.by_session_token("no such.token") is None
    assert len([fields for fields in built if not fields]) == 1
