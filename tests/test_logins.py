"""Staff logins under guessing: a growing wait, the same answer for unknown logins, a log of lockouts."""
from __future__ import annotations

import logging
import re

import pytest

from models import LoginAttempt, User

from .conftest import csrf_token
from .test_mail import worker_app  # noqa: F401 - fixture


@pytest.fixture
def few(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FREE_FAILURES", 3)
    monkeypatch.setitem(app.config, "LOGIN_FIRST_DELAY_SECONDS", 60)


def attempt(client, login, password, address="127.0.0.1"):
    return client.post("/login", data={"login": login, "password": password, "csrf_token": csrf_token(client)},
                       environ_overrides={"REMOTE_ADDR": address})


def test_after_a_few_wrong_passwords_even_the_right_one_must_wait(client, f, few):
    user = f.user()
    for _ in range(3):
        assert attempt(client, user.login, "sbagliata").status_code == 401
    response = attempt(client, user.login, f.PASSWORD)
    assert response.status_code == 429 and response.headers["Retry-After"] in ("59", "60")
    page = response.get_data(as_text=True)
    assert "Troppi tentativi di accesso non riusciti" in page and "riprova tra 1 minuto" in page
    assert client.get("/admin/claim/").status_code == 302  # not logged in


def test_an_unknown_login_is_held_back_the_same_way_and_the_message_says_nothing_of_it(client, f, few):
    user = f.user()
    answers = {}
    for login in (user.login, "nessuno.cosi"):
        for _ in range(3):
            attempt(client, login, "sbagliata")
        response = attempt(client, login, "sbagliata")
        # CSRF tokens, the login typed and the CSP nonce differ from one answer to the next, and
        # the clock moves on between the two logins (the time in the message, a second of the wait)
        page = re.sub(r'(value|nonce)="[^"]*"', "", response.get_data(as_text=True))
        page = re.sub(r"alle \d{2}:\d{2}", "alle hh:mm", page)
        answers[login] = (response.status_code, int(response.headers["Retry-After"]), page)
    (known_status, known_wait, known_page), (unknown_status, unknown_wait, unknown_page) = answers.values()
    assert known_status == unknown_status == 429 and known_page == unknown_page
    assert abs(known_wait - unknown_wait) <= 1 and known_wait > 0


def test_an_unknown_login_checks_the_password_against_a_hash_made_like_real_ones(client, f, monkeypatch):
    from models import users
    real_method = f.user().password_hash.split("$")[0]
    checked = []
    original = users.check_password_hash
    monkeypatch.setattr(users, "check_password_hash", lambda h, p: checked.append((h, p)) or original(h, p))
    assert attempt(client, "nessuno.cosi", "una-password").status_code == 401
    assert len(checked) == 1 and checked[0][1] == "una-password"
    assert checked[0][0].split("$")[0] == real_method


def test_every_attempt_is_recorded_and_a_lockout_is_logged_as_a_warning(client, f, few, caplog):
    user = f.user()
    with caplog.at_level(logging.INFO, logger="gessin.auth"):
        for _ in range(3):
            attempt(client, user.login, "sbagliata", address="203.0.113.5")
    rows = list(LoginAttempt.select().order_by(LoginAttempt.id).tuples()
                .select(LoginAttempt.login, LoginAttempt.address, LoginAttempt.success))
    assert rows == [(user.login, "203.0.113.5", False)] * 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and user.login in warnings[0] and "203.0.113.5" in warnings[0]
    assert "sbagliata" not in caplog.text


def test_guesses_from_elsewhere_do_not_lock_the_user_out_where_they_logged_in_before(client, f, few, app):
    user = f.user()
    assert attempt(app.test_client(), user.login, f.PASSWORD, address="192.0.2.10").status_code == 302
    for _ in range(5):
        attempt(client, user.login, "sbagliata", address="203.0.113.66")
    assert attempt(app.test_client(), user.login, f.PASSWORD, address="192.0.2.10").status_code == 302
    assert attempt(app.test_client(), user.login, f.PASSWORD, address="198.51.100.7").status_code == 429


def test_one_address_guessing_many_logins_is_held_back_too(client, f, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_FREE_FAILURES", 4)
    user = f.user()
    for n in range(4):
        attempt(client, f"utente.{n}", "sbagliata", address="203.0.113.9")
    assert attempt(client, user.login, f.PASSWORD, address="203.0.113.9").status_code == 429
    assert attempt(client, user.login, f.PASSWORD, address="192.0.2.10").status_code == 302


def test_a_lockout_ends_by_itself(client, f, few):
    user = f.user()
    for _ in range(3):
        attempt(client, user.login, "sbagliata")
    for row in LoginAttempt.select():
        LoginAttempt.update(created_at=row.created_at.replace(year=row.created_at.year - 1)) \
            .where(LoginAttempt.id == row.id).execute()
    assert attempt(client, user.login, f.PASSWORD).status_code == 302
    assert User.get_by_id(user.id).last_login_at is not None


def test_old_attempts_are_forgotten_but_each_known_address_stays_known(worker_app, f, few):
    import datetime as dt

    from models import utcnow
    from tasks import housekeeping
    from workflows import logins

    user, now = f.user(), utcnow()
    old, recent = now - dt.timedelta(days=120), now - dt.timedelta(days=3)
    rows = [("10.0.0.1", True, old - dt.timedelta(days=1)), ("10.0.0.1", True, old),  # the later success stays
            ("10.0.0.1", False, old), ("10.0.0.2", False, old), ("10.0.0.3", True, recent), ("10.0.0.3", False, recent)]
    for address, success, when in rows:
        LoginAttempt.create(login=user.login, address=address, success=success, created_at=when)
    assert logins.purge_attempts(now, keep_days=90) == 3
    left = sorted((a.address, a.success, a.created_at) for a in LoginAttempt.select())
    assert left == sorted([("10.0.0.1", True, old), ("10.0.0.3", True, recent), ("10.0.0.3", False, recent)])
    # 10.0.0.1 is still an address the user logged in from (what the throttle asks)
    assert LoginAttempt.select().where(LoginAttempt.address == "10.0.0.1", LoginAttempt.success == True).exists()  # noqa: E712
    housekeeping.housekeeping.call_local()  # the nightly task: nothing more to forget
    assert LoginAttempt.select().count() == 3
