"""wincar-credentials and wincar-send, the reference client, against a live server."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from models import AspCentre, Claim, OutboundEmail, Repairer
from workflows import notify

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_new_credentials_replace_the_old_are_emailed_and_only_hashed(app, f):
    repairer = f.repairer()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["wincar-credentials", repairer.vat_number])
    assert first.exit_code == 0, first.output
    password = first.output.split("Password:")[1].split()[0]
    saved = Repairer.get_by_id(repairer.id)
    assert saved.wincar_user == f"R{repairer.vat_number}" and password not in saved.wincar_password_hash
    email = OutboundEmail.get(OutboundEmail.recipients == repairer.email)
    assert "Credenziali WinCar" in email.subject and saved.wincar_user in email.body
    assert password in notify.for_sending(email.body)
    assert password not in notify.without_secrets(email.body)
    second = runner.invoke(args=["wincar-credentials", repairer.vat_number])
    new_password = second.output.split("Password:")[1].split()[0]
    assert new_password != password
    from werkzeug.security import check_password_hash
    hashed = Repairer.get_by_id(repairer.id).wincar_password_hash
    assert check_password_hash(hashed, new_password) and not check_password_hash(hashed, password)


def test_credentials_for_an_unknown_vat_number_are_refused(app):
    result = app.test_cli_runner().invoke(args=["wincar-credentials", "00000010017"])
    assert result.exit_code != 0 and "Nessuna carrozzeria" in result.output


@pytest.fixture
def live_server(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/v1/claims"
    server.shutdown()


def test_the_reference_client_sends_the_examples_like_wincar(app, f, live_server):
    centre = f.centre(vat_number="01234560157")
    repairer = f.repairer()
    runner = app.test_cli_runner()
    password = runner.invoke(args=["wincar-credentials", repairer.vat_number, "--user-id", "WINCAR-PROVA"]) \
        .output.split("Password:")[1].split()[0]
    sent = runner.invoke(args=["wincar-send", str(EXAMPLES / "nuovo.json"), "--user", "WINCAR-PROVA",
                               "--password", password, "--url", live_server])
    assert sent.exit_code == 0, sent.output
    assert "HTTP 201" in sent.output
    number = json.loads(sent.output.split("\n", 1)[1])["number"]
    claim = Claim.get(Claim.number == number)
    assert claim.asp_centre_id == centre.id and claim.attachments.count() == 5
    follow = runner.invoke(args=["wincar-send", str(EXAMPLES / "seguito.json"), "--user", "WINCAR-PROVA",
                                 "--password", password, "--url", live_server])
    assert "HTTP 200" in follow.output and claim.attachments.count() == 7
    wrong = runner.invoke(args=["wincar-send", str(EXAMPLES / "nuovo.json"), "--user", "WINCAR-PROVA",
                                "--password", "sbagliata", "--url", live_server])
    assert wrong.exit_code == 1 and "HTTP 401" in wrong.output
    assert AspCentre.select().count() == 1


def test_the_call_centre_issues_credentials_from_the_repairer_grid(app, f):
    from models import Role

    from .conftest import csrf_token, login
    repairer = f.repairer(name="Carrozzeria Nuova")
    client = app.test_client()
    login(client, f.user(Role.ADMIN))
    response = client.post("/admin/repairer/action/", data={
        "csrf_token": csrf_token(client, "/admin/repairer/"), "action": "wincar_credentials",
        "rowid": [repairer.id], "url": "/admin/repairer/"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Carrozzeria Nuova" in page
    user_id = Repairer.get_by_id(repairer.id).wincar_user
    assert user_id in page and "Set-Cookie" not in response.headers or user_id not in response.headers["Set-Cookie"]
    manager_client = app.test_client()
    login(manager_client, f.user(Role.ASP_MANAGER, asp_centre=f.centre()))
    refused = manager_client.post("/admin/repairer/action/", data={
        "csrf_token": csrf_token(manager_client, "/admin/repairer/"), "action": "wincar_credentials",
        "rowid": [repairer.id], "url": "/admin/repairer/"})
    assert refused.status_code in (302, 403)
    assert Repairer.get_by_id(repairer.id).wincar_user == user_id
