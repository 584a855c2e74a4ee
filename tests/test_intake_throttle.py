"""The WinCar login under guessing: a growing wait per (UserID, address) and per UserID."""
from __future__ import annotations

import datetime as dt
import logging

import pytest

from models import IntakeEvent, utcnow
from proxies import TrustedProxyFix
from workflows import credentials, throttle

from .conftest import QueryCounter
from .test_intake import PASSWORD, payload, post, shop  # noqa: F401 (shop is a fixture)


@pytest.fixture
def few(app, monkeypatch):
    """Three free failures, then 10 s, 20 s, 40 s..."""
    monkeypatch.setitem(app.config, "LOGIN_FREE_FAILURES", 3)
    monkeypatch.setitem(app.config, "LOGIN_FIRST_DELAY_SECONDS", 10)


def from_address(address):
    return {"environ_overrides": {"REMOTE_ADDR": address}}


def age_failures(seconds):
    for event in IntakeEvent.select().where(IntakeEvent.http_status == 401):
        IntakeEvent.update(received_at=event.received_at - dt.timedelta(seconds=seconds)) \
            .where(IntakeEvent.id == event.id).execute()


def test_the_wait_grows_and_retry_after_is_the_real_remaining_wait(client, shop, few):
    for _ in range(3):
        assert post(client, payload(shop[0]), password="no").status_code == 401
    age_failures(4)
    locked = post(client, payload(shop[0]))
    assert locked.status_code == 429 and locked.mimetype == "application/problem+json"
    assert locked.headers["Retry-After"] == "6" and "6 secondi" in locked.json["detail"]
    age_failures(7)  # the 10 s have passed: one more try is checked
    assert post(client, payload(shop[0]), password="no").status_code == 401
    assert post(client, payload(shop[0])).headers["Retry-After"] == "20"  # doubled


def test_one_clients_failures_do_not_lock_out_another_repairer_at_the_same_address(client, shop, few, f):
    other = f.repairer(name="Carrozzeria Verdi")
    credentials.issue(other, "CARR002", "altra-password-16")
    for _ in range(10):
        assert post(client, payload(shop[0]), password="no").status_code in (401, 429)
    assert post(client, payload(shop[0], wincar_ref="WC-V1"), user="CARR002",
                password="altra-password-16").status_code == 201


def test_failures_elsewhere_do_not_lock_out_the_repairer_where_it_posted_before(client, shop, few):
    assert post(client, payload(shop[0]), **from_address("192.0.2.10")).status_code == 201
    for _ in range(10):
        post(client, payload(shop[0]), password="no", **from_address("203.0.113.66"))
    assert post(client, payload(shop[0], wincar_ref="WC-2"), **from_address("192.0.2.10")).status_code == 201
    # A new address, right password: the UserID's own count holds it back.
    assert post(client, payload(shop[0], wincar_ref="WC-3"), **from_address("198.51.100.7")).status_code == 429
    # The attacker's address keeps waiting, whatever it sends.
    assert post(client, payload(shop[0], wincar_ref="WC-4"), **from_address("203.0.113.66")).status_code == 429


def test_a_lockout_is_logged_as_a_warning_with_userid_and_address(client, shop, few, caplog):
    with caplog.at_level(logging.INFO, logger="gessin.intake"):
        for _ in range(3):
            post(client, payload(shop[0]), password="no")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "CARR001" in warnings[0] and "127.0.0.1" in warnings[0]
    assert "no" not in warnings[0].split()  # never the password


def test_the_failure_look_up_is_one_query(app, shop):
    from intake_api.auth import recent_failures
    policy = throttle.Policy.from_config(app.config)
    with QueryCounter() as queries:
        failures = recent_failures("CARR001", "127.0.0.1", policy, utcnow())
    assert queries.count == 1 and failures.pair.failures == failures.login.failures == 0


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(client, shop, app, monkeypatch):
    headers = {"X-Forwarded-For": "198.51.100.23"}
    post(client, payload(shop[0]), password="no", headers=dict(headers))
    assert IntakeEvent.get().remote_addr == "127.0.0.1"  # a direct client cannot choose its address
    monkeypatch.setattr(app, "wsgi_app", TrustedProxyFix(app.wsgi_app, ["127.0.0.0/8"]))
    post(client, payload(shop[0]), password="no", headers=dict(headers))
    assert IntakeEvent.select().order_by(IntakeEvent.id.desc()).get().remote_addr == "198.51.100.23"
    post(client, payload(shop[0]), password="no", headers=dict(headers), **from_address("192.0.2.99"))
    assert IntakeEvent.select().order_by(IntakeEvent.id.desc()).get().remote_addr == "192.0.2.99"


def test_trusted_proxies_come_from_the_environment_and_are_wired_in(monkeypatch):
    import config
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    assert config.from_environment()["TRUSTED_PROXIES"] == ()
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5, 172.16.0.0/12")
    assert config.from_environment()["TRUSTED_PROXIES"] == ("10.0.0.5", "172.16.0.0/12")
    fix = TrustedProxyFix(lambda environ, start: [environ["REMOTE_ADDR"].encode()], ["10.0.0.5", "172.16.0.0/12"])
    assert fix.is_trusted("172.20.1.1") and fix.is_trusted("10.0.0.5")
    assert not fix.is_trusted("10.0.0.6") and not fix.is_trusted("") and not fix.is_trusted(None)


def test_the_policy_is_free_at_first_then_doubles_up_to_the_cap():
    policy = throttle.Policy(free_failures=3, first_delay=2, max_delay=60)
    assert [policy.delay_after(n) for n in range(9)] == [0, 0, 0, 2, 4, 8, 16, 32, 60]
    assert policy.delay_after(10_000) == 60


def test_create_app_wires_the_proxy_fix_only_when_proxies_are_configured(app, monkeypatch):
    import app as app_module
    assert not isinstance(app.wsgi_app, TrustedProxyFix)  # the tests' app trusts no proxy
    monkeypatch.setattr(app_module, "bind_database", lambda url: None)  # keep the tests' connection
    behind_proxy = app_module.create_app({**app.config, "TRUSTED_PROXIES": ("10.0.0.5",)})
    assert isinstance(behind_proxy.wsgi_app, TrustedProxyFix) and behind_proxy.wsgi_app.is_trusted("10.0.0.5")
