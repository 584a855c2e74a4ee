"""Sessions end when they should: logout, "esci da tutti i dispositivi", a new password, a deactivation."""
from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

import config
from models import Role, User, UserSession
from tasks import housekeeping

from .conftest import csrf_token, login


def cookie(client, name):
    found = client.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    return found.value


def replay(app, **cookies):
    """A fresh browser holding only the cookies saved earlier."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def log_in_remembered(client, user, password):
    return client.post("/login", data={"login": user.login, "password": password, "remember": "y",
                                       "csrf_token": csrf_token(client)})


def test_a_session_cookie_saved_before_logout_no_longer_opens_the_claims(client, f, app):
    login(client, f.user())
    saved = cookie(client, "session")
    assert replay(app, session=saved).get("/admin/claim/").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    response = replay(app, session=saved).get("/admin/claim/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_leaving_one_device_keeps_the_others_logged_in(client, f, app):
    user = f.user()
    phone = app.test_client()
    login(client, user)
    login(phone, user)
    saved = cookie(client, "session")
    assert UserSession.select().where(UserSession.user == user.id).count() == 2
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert phone.get("/admin/claim/").status_code == 200  # the other device
    assert client.get("/admin/claim/").status_code == 302
    assert replay(app, session=saved).get("/admin/claim/").status_code == 302  # a copy of the left one's cookie
    assert UserSession.select().where(UserSession.user == user.id).count() == 1


def test_a_remember_cookie_of_a_device_left_no_longer_logs_in(client, f, app):
    user = f.user()
    assert log_in_remembered(client, user, f.PASSWORD).status_code == 302
    remembered = cookie(client, "remember_token")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert replay(app, remember_token=remembered).get("/admin/claim/").status_code == 302


def test_a_session_without_its_device_or_from_before_devices_opens_nothing(client, f, app):
    user = f.user()
    login(client, user)
    assert User.by_session_token(user.session_token) is None  # a cookie of before: the user's token alone
    assert User.by_session_token(f"{user.session_token}.") is None
    assert User.by_session_token(f"{user.session_token}.{'x' * 43}") is None
    device = UserSession.get(UserSession.user == user.id).token
    assert User.by_session_token(f"{user.session_token}.{device}").id == user.id
    other = f.user()
    assert User.by_session_token(f"{other.session_token}.{device}") is None  # another user's token


def test_the_nightly_housekeeping_forgets_devices_older_than_the_remember_cookie(client, f, app, monkeypatch):
    monkeypatch.setattr(housekeeping, "flask_app", lambda: app)
    user = f.user()
    login(client, user)
    old = app.test_client()
    login(old, user)
    last = UserSession.select().order_by(UserSession.id.desc()).get()
    UserSession.update(created_at=last.created_at - app.config["REMEMBER_COOKIE_DURATION"] - dt.timedelta(hours=1)) \
        .where(UserSession.id == last.id).execute()
    housekeeping.housekeeping.call_local()
    assert [s.id for s in UserSession.select()] == [last.id - 1]
    assert old.get("/admin/claim/").status_code == 302 and client.get("/admin/claim/").status_code == 200


def test_a_remember_cookie_saved_before_leaving_every_device_no_longer_logs_in(client, f, app):
    user = f.user()
    assert log_in_remembered(client, user, f.PASSWORD).status_code == 302
    remembered = cookie(client, "remember_token")
    token, device = remembered.split("|")[0].split(".")
    assert (token, device) == (user.session_token, UserSession.get(UserSession.user == user.id).token)  # not the id
    assert replay(app, remember_token=remembered).get("/admin/claim/").status_code == 200
    response = client.post("/logout/everywhere", data={"csrf_token": csrf_token(client, "/admin/")})
    assert response.status_code == 302 and "tutti i dispositivi" in client.get("/login").get_data(as_text=True)
    assert replay(app, remember_token=remembered).get("/admin/claim/").status_code == 302
    assert client.get("/admin/claim/").status_code == 302
    assert client.get_cookie("remember_token") is None  # and the browser was told to forget it


def test_leaving_every_device_ends_only_ones_own_sessions_and_needs_a_login_and_a_token(client, f, app):
    me, colleague = f.user(), f.user()
    other = app.test_client()
    login(client, me)
    login(other, colleague)
    assert "Esci da tutti i dispositivi" in client.get("/admin/").get_data(as_text=True)
    assert client.post("/logout/everywhere").status_code == 400  # no CSRF token
    client.post("/logout/everywhere", data={"csrf_token": csrf_token(client, "/admin/")})
    assert other.get("/admin/claim/").status_code == 200
    anonymous = app.test_client()
    response = anonymous.post("/logout/everywhere", data={"csrf_token": csrf_token(anonymous)})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert User.get_by_id(colleague.id).session_token == colleague.session_token


def edit_user(client, user, **changes):
    data = {"login": user.login, "full_name": user.full_name or "", "email": user.email or "", "role": user.role,
            "language": user.language, "active": "y", "new_password": "",
            "csrf_token": csrf_token(client, f"/admin/user/edit/?id={user.id}")}
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    response = client.post(f"/admin/user/edit/?id={user.id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_a_new_password_ends_the_users_other_sessions(client, f, app):
    admin, clerk = f.user(role=Role.ADMIN), f.user(role=Role.ADMIN)
    theirs = app.test_client()
    login(theirs, clerk)
    login(client, admin)
    edit_user(client, clerk, new_password="una-nuova-password")
    assert theirs.get("/admin/claim/").status_code == 302
    assert User.get_by_id(clerk.id).check_password("una-nuova-password")


def test_an_admin_who_changes_their_own_password_stays_logged_in_here_only(client, f, app):
    admin = f.user(role=Role.ADMIN)
    elsewhere = app.test_client()
    login(elsewhere, admin)
    login(client, admin)
    edit_user(client, admin, new_password="una-nuova-password")
    assert client.get("/admin/claim/").status_code == 200
    assert elsewhere.get("/admin/claim/").status_code == 302


def test_a_deactivation_ends_the_sessions_for_good(client, f, app):
    admin, clerk = f.user(role=Role.ADMIN), f.user(role=Role.ADMIN)
    theirs = app.test_client()
    login(theirs, clerk)
    saved = cookie(theirs, "session")
    login(client, admin)
    edit_user(client, clerk, active=None)
    assert theirs.get("/admin/claim/").status_code == 302
    User.update(active=True).where(User.id == clerk.id).execute()  # reactivated later
    assert replay(app, session=saved).get("/admin/claim/").status_code == 302


def test_a_login_starts_a_fresh_session(client, f):
    user = f.user()
    with client.session_transaction() as session:
        session["language"] = "en"
        session["_user_id"] = "not-a-token"  # what a planted pre-login cookie could hold
        session["promoted"] = True
    login(client, user)
    with client.session_transaction() as session:
        device = UserSession.get(UserSession.user == user.id).token
        assert "promoted" not in session and session["_user_id"] == f"{user.session_token}.{device}"
        assert session["language"] == "en"


def test_cookies_are_secure_in_production_and_samesite_httponly_always(client, f, app, monkeypatch):
    for key in ("SESSION_COOKIE_SECURE", "PUBLIC_URL"):
        monkeypatch.delenv(key, raising=False)
    assert not config.from_environment()["SESSION_COOKIE_SECURE"]
    monkeypatch.setenv("PUBLIC_URL", "https://gessin.restart.example")
    production = config.from_environment()
    assert production["SESSION_COOKIE_SECURE"] and production["REMEMBER_COOKIE_SECURE"]
    monkeypatch.setenv("PUBLIC_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    assert config.from_environment()["REMEMBER_COOKIE_SECURE"]

    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        monkeypatch.setitem(app.config, key, True)
    response = log_in_remembered(client, f.user(), f.PASSWORD)
    set_cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        flags = [part.strip().lower() for part in set_cookies[name].split(";")]
        assert {"secure", "httponly", "samesite=lax"} <= set(flags), set_cookies[name]
    expires = next(p for p in set_cookies["remember_token"].split(";") if p.strip().lower().startswith("expires"))
    lasts = parsedate_to_datetime(expires.split("=", 1)[1]) - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(days=13) < lasts <= dt.timedelta(days=14)
