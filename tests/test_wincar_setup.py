"""A body shop's WinCar set-up: its page, "Rigenera password WinCar", GET /api/v1/ping and its last posts."""
from __future__ import annotations

import pytest

from models import IntakeEvent, OutboundEmail, OutboundMessage, Repairer, RepairerCentre, Role
from workflows import credentials

from .conftest import csrf_token, login
from .test_intake import payload

PASSWORD = "password-wincar-prova-1"


@pytest.fixture
def shop(f):
    centre = f.centre(name="Centro ASP Brianza")
    repairer = f.repairer(name="Carrozzeria Monza")
    RepairerCentre.create(repairer=repairer, asp_centre=centre)
    credentials.issue(repairer, "MONZA01", PASSWORD)
    user = f.user(Role.REPAIRER, repairer=repairer)
    return centre, Repairer.get_by_id(repairer.id), user


def test_the_repairer_finds_the_seeds_steps_with_its_own_values(client, shop):
    centre, repairer, user = shop
    login(client, user)
    page = client.get("/admin/wincar/", follow_redirects=True)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for words in ("[ Archivi ]", "[ Anagrafica Azienda ]", "[ Collegamenti ]", "[ Configurazione ]",
                  "WebServices", "[ RESTART - Tutte ]", "MONZA01", repairer.email, "Centro ASP Brianza",
                  centre.vat_number, "tabella dei Legali"):
        assert words in text, words
    assert PASSWORD not in text


def test_a_repairer_cannot_open_another_ones_page_and_other_roles_are_refused(client, f, shop):
    _, repairer, user = shop
    other = f.repairer(name="Carrozzeria Altrui")
    login(client, user)
    assert client.get(f"/admin/wincar/{other.id}").status_code == 404
    assert client.post(f"/admin/wincar/{other.id}/regenerate",
                       data={"csrf_token": csrf_token(client, "/admin/")}).status_code == 404
    login(client, f.user(Role.ASP_MANAGER, asp_centre=shop[0]))
    assert client.get(f"/admin/wincar/{repairer.id}").status_code == 403
    admin = f.user(Role.ADMIN)
    login(client, admin)
    assert "MONZA01" in client.get(f"/admin/wincar/{repairer.id}").get_data(as_text=True)


def test_regenerating_shows_the_new_password_once_emails_it_and_the_old_one_stops(client, shop):
    centre, repairer, user = shop
    assert client.get("/api/v1/ping", auth=("MONZA01", PASSWORD)).status_code == 200
    login(client, user)
    assert client.post(f"/admin/wincar/{repairer.id}/regenerate").status_code == 400  # no CSRF token
    form = {"csrf_token": csrf_token(client, "/admin/"), "replaces": replaces(client, repairer)}
    page = client.post(f"/admin/wincar/{repairer.id}/regenerate", data=form)
    assert page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    new = text.split('id="password-value">')[1].split("<")[0]
    assert page.status_code == 200 and len(new) == 16 and new != PASSWORD
    assert client.get("/api/v1/ping", auth=("MONZA01", PASSWORD)).status_code == 401
    assert client.get("/api/v1/ping", auth=("MONZA01", new)).status_code == 200
    [mail] = OutboundEmail.with_message().where(OutboundEmail.recipients == repairer.email,
                                                OutboundMessage.body.contains(new))
    assert "Credenziali WinCar" in mail.subject
    assert new not in client.get(f"/admin/wincar/{repairer.id}").get_data(as_text=True)  # shown once


def test_the_same_regenerate_form_sent_again_regenerates_nothing(client, shop):
    """A reload of the page that shows the new password re-posts its form: the password
    just e-mailed must stay the valid one."""
    _centre, repairer, user = shop
    login(client, user)
    form = {"csrf_token": csrf_token(client, "/admin/"), "replaces": replaces(client, repairer)}
    mails = OutboundEmail.with_message().where(OutboundMessage.subject.contains("Credenziali WinCar"))
    before = mails.count()
    first = client.post(f"/admin/wincar/{repairer.id}/regenerate", data=form).get_data(as_text=True)
    new = first.split('id="password-value">')[1].split("<")[0]
    again = client.post(f"/admin/wincar/{repairer.id}/regenerate", data=form, follow_redirects=True)
    assert "già stata rigenerata" in again.get_data(as_text=True) and 'id="password-value"' not in again.get_data(
        as_text=True)
    assert client.get("/api/v1/ping", auth=("MONZA01", new)).status_code == 200
    assert mails.count() == before + 1


def replaces(client, repairer) -> str:
    """The fingerprint of the present credentials, as the page's form carries it."""
    page = client.get(f"/admin/wincar/{repairer.id}").get_data(as_text=True)
    return page.split('name="replaces" value="')[1].split('"')[0]


def test_ping_says_who_the_caller_is_and_which_centres_it_works_with(client, shop):
    centre, repairer, _ = shop
    answer = client.get("/api/v1/ping", auth=("MONZA01", PASSWORD))
    assert answer.status_code == 200
    assert answer.json["carrozzeria"] == {"ragione_sociale": "Carrozzeria Monza", "partita_iva": repairer.vat_number,
                                          "user_id": "MONZA01"}
    assert answer.json["centri_asp"] == [{"ragione_sociale": "Centro ASP Brianza", "partita_iva": centre.vat_number}]
    refused = client.get("/api/v1/ping", auth=("MONZA01", "sbagliata"))
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    assert "UserID o password WinCar non validi" in refused.json["detail"]
    assert IntakeEvent.select().where(IntakeEvent.event == "ping", IntakeEvent.http_status == 401).count() == 1


def test_ping_is_in_the_openapi_document_and_on_the_docs_page(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/ping"]["get"]
    assert operation["security"] == [{"wincar": []}] and {"200", "401", "429"} <= set(operation["responses"])
    assert "GET /api/v1/ping" in client.get("/api/v1/docs").get_data(as_text=True)


def test_the_repairers_page_lists_its_last_posts_with_claim_number_or_italian_error(client, shop):
    centre, repairer, user = shop
    created = client.post("/api/v1/claims", json=payload(centre), auth=("MONZA01", PASSWORD))
    assert created.status_code == 201
    wrong = payload(centre, wincar_ref="WC-2026-002")
    wrong["asp_centre"] = {"partita_iva": "00000000000", "ragione_sociale": "Nessuno"}
    assert client.post("/api/v1/claims", json=wrong, auth=("MONZA01", PASSWORD)).status_code == 422
    login(client, user)
    text = client.get(f"/admin/wincar/{repairer.id}").get_data(as_text=True)
    posts = text.split('id="wincar-posts"')[1]
    assert created.json["number"] in posts and "Pratica creata (201)" in posts
    assert "Dati non validi (422)" in posts and "asp_centre" in posts
    assert posts.index("WC-2026-002") < posts.index("WC-2026-001")  # newest first
