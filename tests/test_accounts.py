"""Staff accounts: invitations by e-mail, "Password dimenticata", and the password rules."""
from __future__ import annotations

import re

import pytest

from models import InvalidValue, OutboundEmail, PasswordResetRequest, Role, User
from workflows import accounts

from .conftest import csrf_token, login

LINK = re.compile(r"http://127\.0\.0\.1(/password/\S+)")


def link_in(email: OutboundEmail) -> str:
    return LINK.search(email.body).group(1)


def choose(client, link, password):
    return client.post(link, data={"password": password, "repeat": password, "csrf_token": csrf_token(client, link)})


def test_the_call_centre_invites_a_manager_who_chooses_its_own_password(client, f):
    centre = f.centre(name="Centro ASP Veneto")
    admin = f.user(Role.ADMIN)
    login(client, admin)
    created = client.post("/admin/user/new/", data={
        "login": "mverdi", "full_name": "Maria Verdi", "email": "m.verdi@example.it", "role": Role.ASP_MANAGER,
        "asp_centre": centre.id, "language": "it", "active": "y", "new_password": "",
        "csrf_token": csrf_token(client, "/admin/user/new/")})
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    invited = User.get(User.login == "mverdi")
    assert not invited.check_password("")
    [invitation] = OutboundEmail.select().where(OutboundEmail.recipients == "m.verdi@example.it")
    assert "Invito al portale RESTART" in invitation.subject
    assert "Responsabile Centro ASP" in invitation.body and "Centro ASP Veneto" in invitation.body
    link = link_in(invitation)

    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert choose(client, link, "Verdi-Padova-2026").status_code == 302
    login(client, User.get_by_id(invited.id), "Verdi-Padova-2026")
    assert client.get(link).status_code == 410  # used


def test_an_invitation_needs_an_email_address(client, f):
    login(client, f.user(Role.ADMIN))
    refused = client.post("/admin/user/new/", data={
        "login": "senzamail", "role": Role.ADMIN, "language": "it", "active": "y", "new_password": "",
        "csrf_token": csrf_token(client, "/admin/user/new/")})
    assert "Indica l&#39;e-mail" in refused.get_data(as_text=True)
    assert User.select().where(User.login == "senzamail").count() == 0


def test_forgotten_password_answers_the_same_whether_or_not_the_login_exists(client, f):
    user = f.user(Role.LAWYER, lawyer=f.lawyer(), login="avvrossi", email="avv.rossi@example.it")
    answers = []
    for typed in ("avvrossi", "nessuno-con-questo-nome"):
        token = csrf_token(client, "/password-dimenticata")
        response = client.post("/password-dimenticata", data={"login": typed, "csrf_token": token})
        answers.append((response.status_code, response.headers["Location"],
                        client.get("/login").get_data(as_text=True).count("Se il nome utente")))
    assert answers[0] == answers[1] == (302, "/login", 1)
    [reset] = OutboundEmail.select()
    assert reset.recipients == "avv.rossi@example.it"
    link = link_in(reset)
    assert choose(client, link, "Nuova-Password-Avv-9").status_code == 302
    assert User.get_by_id(user.id).check_password("Nuova-Password-Avv-9")
    assert client.get(link).status_code == 410


def test_a_reset_link_also_answers_to_the_email_address_and_ends_open_sessions(client, f):
    user = f.user(Role.ADMIN, email="operatore@example.it")
    login(client, user)
    assert accounts.request_reset("Operatore@Example.it", "10.1.1.1")
    other = client.application.test_client()
    assert choose(other, link_in(OutboundEmail.get()), "Operatore-Sicuro-31").status_code == 302
    assert client.get("/admin/").status_code == 302  # the session opened before the reset has ended


def test_reset_requests_are_limited_per_user_and_per_address(f):
    f.user(Role.ADMIN, login="limitato", email="limitato@example.it")
    sent = [accounts.request_reset("limitato", f"10.0.0.{n}") for n in range(accounts.RESETS_PER_USER + 2)]
    assert sent == [True] * accounts.RESETS_PER_USER + [False, False]
    f.user(Role.ADMIN, login="altro", email="altro@example.it")
    from_one = [accounts.request_reset(name, "10.9.9.9") for name in ["x1", "x2", "x3", "x4", "x5", "altro"]]
    assert from_one[-1] is False  # the address is over its limit, whatever login it names
    assert PasswordResetRequest.select().count() == accounts.RESETS_PER_USER + 2 + 6


@pytest.mark.parametrize("password, message", [
    ("corta", "almeno 8 caratteri"),
    ("password1", "tra le più usate"),
    ("Qwertyuiop", "tra le più usate"),
])
def test_short_and_common_passwords_are_refused(password, message):
    with pytest.raises(InvalidValue) as refused:
        User(login="x", role=Role.ADMIN).set_password(password)
    assert message in str(refused.value.message)


def test_create_user_stays_for_scripts_and_the_first_administrator(app, f):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "primo", "--role", "admin", "--password", "Primo-Amministratore-1"])
    assert result.exit_code == 0, result.output
    assert User.get(User.login == "primo").check_password("Primo-Amministratore-1")
    common = runner.invoke(args=["create-user", "secondo", "--role", "admin", "--password", "123456789"])
    assert common.exit_code != 0 and User.select().where(User.login == "secondo").count() == 0
