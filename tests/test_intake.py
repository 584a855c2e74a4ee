"""The WinCar intake endpoint through the test client."""
from __future__ import annotations

import base64
import datetime as dt
import copy
import io
import json
import re
import threading
from pathlib import Path

import pytest

from models import Attachment, Claim, ClaimStatus, IntakeEvent, OutboundEmail, Repairer, StatusChange
from workflows import credentials

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PASSWORD = "wincar-segreta-1"


@pytest.fixture
def shop(f, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
    centre = f.centre(name="Centro ASP Roma")
    repairer = f.repairer(name="Carrozzeria Bianchi")
    f.insurer(name="Assicurazioni Generali"), f.insurer(name="UnipolSai")  # the registry knows the names sent
    Repairer.update(wincar_user="CARR001", wincar_password_hash=credentials.hash_password(PASSWORD)) \
        .where(Repairer.id == repairer.id).execute()
    return centre, Repairer.get_by_id(repairer.id)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def payload(centre, wincar_ref="WC-2026-001", **overrides):
    body = {
        "event": "nuovo",
        "wincar_ref": wincar_ref,
        "asp_centre": {"partita_iva": centre.vat_number, "ragione_sociale": centre.name},
        "customer": {"name": "Mario Rossi", "fiscal_code": "RSSMRA80A01H501U", "email": "mario.rossi@example.com"},
        "accident": {
            "date": "2026-10-01", "time": "14:30", "place": "Roma, via Appia 10",
            "vehicle_a": {"plate": "AB123CD", "insurer": "Assicurazioni Generali", "policy_number": "P1",
                          "driver": "Mario Rossi", "circumstances": [1, 7]},
            "vehicle_b": {"plate": "EF456GH", "insurer": "UnipolSai", "driver": "Luca Verdi", "circumstances": [13]},
            "signed_by_both": True,
        },
        "estimate_amount": "1520.40",
        "attachments": [
            {"type": "denuncia", "filename": "denuncia.pdf", "content_base64": b64(PDF)},
            {"type": "foto", "filename": "foto1.png", "content_base64": b64(PNG)},
        ],
    }
    body.update(overrides)
    return body


def post(client, body, user="CARR001", password=PASSWORD, **kw):
    headers = kw.pop("headers", {})
    if user is not None:
        headers["Authorization"] = "Basic " + b64(f"{user}:{password}".encode())
    return client.post("/api/v1/claims", json=body, headers=headers, **kw)


def stored_files(app):
    return sorted(p for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file())


def test_a_new_claim_gets_its_number_and_documents(client, shop, app):
    centre, repairer = shop
    response = post(client, payload(centre))
    assert response.status_code == 201, response.json
    body = response.json
    claim = Claim.get(Claim.number == body["number"])
    assert body["status"] == "received" and body["attachments_added"] == 2
    assert (claim.repairer_id, claim.asp_centre_id, claim.wincar_ref, claim.source) == \
        (repairer.id, centre.id, "WC-2026-001", "wincar")
    assert claim.vehicle_a_plate == "AB123CD" and str(claim.estimate_amount) == "1520.40"
    assert claim.vehicle_a_insurer.name == "Assicurazioni Generali" and claim.vehicle_a_circumstances == "1,7"
    kinds = {(a.kind, a.content_type, a.source) for a in claim.attachments}
    assert kinds == {("denuncia", "application/pdf", "wincar"), ("foto", "image/png", "wincar")}
    subjects = {e.recipients: e.subject for e in OutboundEmail.select().where(OutboundEmail.claim == claim)}
    assert "Conferma di avvenuta presa in carico della denuncia" in subjects[repairer.email]
    assert "Nuovo inserimento denuncia" in subjects[centre.email]
    assert all(claim.number in s for s in subjects.values())
    event = IntakeEvent.get()
    assert (event.http_status, event.claim_id, event.wincar_user, event.event) == (201, claim.id, "CARR001", "nuovo")
    assert b64(PDF) not in event.payload and f"\"size\": {len(PDF)}" in event.payload


def test_the_same_nuovo_again_returns_the_same_number_without_a_second_email(client, shop):
    centre, _ = shop
    first = post(client, payload(centre)).json
    emails = OutboundEmail.select().count()
    again = post(client, payload(centre))
    assert again.status_code == 200 and again.json["number"] == first["number"]
    assert Claim.select().count() == 1 and OutboundEmail.select().count() == emails


def test_an_idempotency_key_is_honoured(client, shop):
    centre, _ = shop
    first = post(client, payload(centre), headers={"Idempotency-Key": "k-1"})
    again = post(client, payload(centre, wincar_ref="WC-ALTRO"), headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.json["number"] == first.json["number"]
    assert Claim.select().count() == 1


def test_concurrent_identical_posts_make_exactly_one_claim(app, shop):
    centre, _ = shop
    body, results = payload(centre), []

    def send():
        with app.test_client() as c:
            results.append(post(c, body))
    threads = [threading.Thread(target=send) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200] * 19 + [201]
    assert len({r.json["number"] for r in results}) == 1
    assert Claim.select().count() == 1 and Attachment.select().count() == 2
    assert len(stored_files(app)) == 2  # the losers' files were removed


def test_a_seguito_adds_versions_updates_data_and_tells_everyone(client, shop):
    centre, repairer = shop
    number = post(client, payload(centre)).json["number"]
    claim = Claim.get(Claim.number == number)
    before = OutboundEmail.select().count()
    follow = payload(centre, event="seguito", attachments=[
        {"type": "denuncia", "filename": "denuncia-firmata.pdf", "content_base64": b64(PDF + b"% firmata")},
        {"type": "mandato", "filename": "mandato.pdf", "content_base64": b64(PDF)},
    ])
    follow["customer"]["phone"] = "06 1234567"
    response = post(client, follow)
    assert response.status_code == 200 and response.json["number"] == number
    assert response.json["attachments_added"] == 2
    versions = sorted((a.kind, a.version) for a in Attachment.select().where(Attachment.claim == claim))
    assert versions == [("denuncia", 1), ("denuncia", 2), ("foto", 1), ("mandato", 1)]
    assert Claim.get_by_id(claim.id).customer_phone == "06 1234567"
    new = list(OutboundEmail.select().where(OutboundEmail.id > 0))[before:]
    assert {e.recipients for e in new} == {repairer.email, centre.email}
    assert all("seguito" in e.subject for e in new)
    assert StatusChange.select().where(StatusChange.claim == claim, StatusChange.event == "seguito").count() == 1
    # the same seguito again: nothing new, no e-mail
    assert post(client, follow).json["attachments_added"] == 0
    assert OutboundEmail.select().count() == before + len(new)


def test_a_seguito_by_portal_number_completes_an_incomplete_file(client, shop, f):
    from models import Role
    from workflows import engine
    centre, repairer = shop
    body = payload(centre)
    body["attachments"] = [{"type": k, "filename": f"{k}.pdf", "content_base64": b64(PDF)}
                           for k in ("denuncia", "mandato", "cessione_credito", "richiesta_danni")]
    number = post(client, body).json["number"]
    claim = Claim.get(Claim.number == number)
    Claim.update(insurer=claim.vehicle_a_insurer).where(Claim.id == claim.id).execute()
    manager = f.user(Role.ASP_MANAGER, asp_centre=centre)
    engine.apply("mark_incomplete", Claim.get_by_id(claim.id), manager, missing=["doc:documento_identita"])
    follow = payload(centre, event="seguito", wincar_ref="diverso", number=number, attachments=[
        {"type": "documento_identita", "filename": "ci.jpg", "content_base64": b64(b"\xff\xd8\xff\xe0" + b"0" * 20)}])
    before = OutboundEmail.select().count()
    response = post(client, follow)
    assert response.status_code == 200 and response.json["status"] == "received"
    assert Claim.get_by_id(claim.id).status == ClaimStatus.RECEIVED
    new = list(OutboundEmail.select().order_by(OutboundEmail.id))[before:]
    assert sorted(e.recipients for e in new) == sorted([repairer.email, centre.email])  # one each, not two
    assert all(e.subject == f"[Gessin] Pratica {number}: documentazione completata, la pratica torna in validazione"
               and "torna in validazione al centro ASP" in e.body for e in new)
    events = [h.event for h in StatusChange.select().where(StatusChange.claim == claim).order_by(StatusChange.id)]
    assert events[-2:] == ["seguito", "complete"]


def test_a_seguito_for_someone_elses_claim_is_refused(client, shop, f):
    centre, _ = shop
    other = f.claim(f.repairer(), centre, wincar_ref="WC-ALTRUI")
    response = post(client, payload(centre, event="seguito", wincar_ref="WC-ALTRUI", number=other.number))
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "wincar_ref"
    assert Attachment.select().where(Attachment.claim == other).count() == 0


@pytest.mark.parametrize("user, password", [("CARR001", "sbagliata"), ("NESSUNO", PASSWORD), (None, None)])
def test_bad_credentials_get_401_in_italian(client, shop, user, password):
    response = post(client, payload(shop[0]), user=user, password=password)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert "credenziali" in response.json["detail"] and response.headers["WWW-Authenticate"].startswith("Basic")
    assert Claim.select().count() == 0


def test_an_inactive_repairer_is_refused(client, shop):
    Repairer.update(active=False).where(Repairer.id == shop[1].id).execute()
    assert post(client, payload(shop[0])).status_code == 401


def test_wincar_passwords_are_salted_and_an_older_slow_hash_is_replaced_at_login(client, shop):
    from werkzeug.security import generate_password_hash
    stored = Repairer.get_by_id(shop[1].id).wincar_password_hash
    assert credentials.is_current(stored) and PASSWORD not in stored
    assert credentials.hash_password(PASSWORD) != stored  # salted: the same password hashes differently
    legacy = generate_password_hash(PASSWORD)  # werkzeug's default (scrypt), as first issued
    Repairer.update(wincar_password_hash=legacy).where(Repairer.id == shop[1].id).execute()
    assert post(client, payload(shop[0])).status_code == 201
    upgraded = Repairer.get_by_id(shop[1].id).wincar_password_hash
    assert upgraded != legacy and credentials.is_current(upgraded)
    assert post(client, payload(shop[0], wincar_ref="WC-2")).status_code == 201
    assert post(client, payload(shop[0], wincar_ref="WC-3"), password="sbagliata").status_code == 401
    assert Repairer.get_by_id(shop[1].id).wincar_password_hash == upgraded


def test_a_chosen_wincar_password_must_be_as_long_as_a_generated_one(shop):
    with pytest.raises(ValueError):
        credentials.issue(shop[1], "CARR001", "corta-123")
    user_id, password = credentials.issue(shop[1])
    assert len(password) == credentials.PASSWORD_LENGTH and password.isalnum()


def test_repeated_failures_are_rate_limited(client, shop, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FREE_FAILURES", 3)
    for _ in range(3):
        assert post(client, payload(shop[0]), password="no").status_code == 401
    locked = post(client, payload(shop[0]))
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_malformed_json_is_400(client, shop):
    response = client.post("/api/v1/claims", data=b"{not json", content_type="application/json",
                           headers={"Authorization": "Basic " + b64(f"CARR001:{PASSWORD}".encode())})
    assert response.status_code == 400 and response.json["status"] == 400


def test_other_content_types_are_415(client, shop):
    response = client.post("/api/v1/claims", data="event=nuovo", content_type="application/x-www-form-urlencoded",
                           headers={"Authorization": "Basic " + b64(f"CARR001:{PASSWORD}".encode())})
    assert response.status_code == 415


def test_a_body_over_the_limit_is_413(client, shop, app, monkeypatch):
    monkeypatch.setitem(app.config, "INTAKE_MAX_BYTES", 300)
    response = post(client, payload(shop[0]))
    assert response.status_code == 413 and "limite" in response.json["detail"]


@pytest.mark.parametrize("change, field", [
    (lambda b: b["asp_centre"].update(partita_iva="12345678901"), "asp_centre.partita_iva"),
    (lambda b: b["accident"]["vehicle_b"].update(plate="?!"), "accident.vehicle_b"),
    (lambda b: b["accident"].update(date="2026-13-40"), "accident.date"),
    (lambda b: b.pop("customer"), "customer"),
    (lambda b: b.update(event="altro"), "event"),
    (lambda b: b["attachments"][0].update(type="ricetta"), "attachments.0.type"),
    (lambda b: b["attachments"][1].update(content_base64="non-base64!!"), "attachments.1.content_base64"),
    (lambda b: b["attachments"][1].update(content_base64=b64(b"MZ\x90\x00 eseguibile")), "attachments.1.content_base64"),
    (lambda b: b.update(estimate_amount="12,3.4"), "estimate_amount"),
])
def test_schema_errors_are_422_with_the_field_path_and_leave_nothing(client, shop, app, change, field):
    body = copy.deepcopy(payload(shop[0]))
    change(body)
    response = post(client, body)
    assert response.status_code == 422, response.json
    fields = [e["field"] for e in response.json["errors"]]
    assert any(f.startswith(field) for f in fields), fields
    assert all(e["message"] for e in response.json["errors"])
    assert Claim.select().count() == 0 and Attachment.select().count() == 0 and stored_files(app) == []
    assert IntakeEvent.get().http_status == 422


def test_an_unknown_centre_is_a_clear_error_not_a_guess(client, shop, f):
    from tests.factories import vat_number
    response = post(client, payload(shop[0], asp_centre={"partita_iva": vat_number(), "ragione_sociale": "Centro"}))
    assert response.status_code == 422
    assert "non trovato" in response.json["detail"] and response.json["errors"][0]["field"] == "asp_centre.partita_iva"


@pytest.mark.parametrize("where", ["writing the second file", "saving the rows"])
def test_a_failure_after_some_files_were_written_leaves_no_row_and_no_file(client, shop, app, monkeypatch, where):
    from workflows import intake
    if where == "saving the rows":
        def fail(*args, **kwargs):
            raise OSError("database gone")
        monkeypatch.setattr(intake, "add_rows", fail)
    else:
        original, calls = intake.write_file, []

        def write_then_fail(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise OSError("disco pieno")
            return original(*args, **kwargs)
        monkeypatch.setattr(intake, "write_file", write_then_fail)
    with pytest.raises(OSError):
        post(client, payload(shop[0]))
    assert Claim.select().count() == 0 and Attachment.select().count() == 0
    assert OutboundEmail.select().count() == 0 and stored_files(app) == []


def test_file_names_are_sanitised(client, shop):
    body = payload(shop[0])
    body["attachments"][0]["filename"] = "..\\..\\C:/windows/\x07denuncia\x1b.pdf"
    number = post(client, body).json["number"]
    names = [a.original_name for a in Claim.get(Claim.number == number).attachments]
    assert "denuncia.pdf" in names


def test_the_openapi_document_and_the_docs_page(client, app):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.1")
    post_op = spec["paths"]["/api/v1/claims"]["post"]
    assert {"200", "201", "400", "401", "413", "415", "422"} <= set(post_op["responses"])
    assert "ClaimIn" in spec["components"]["schemas"]
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "ClaimIn" in page and "partita_iva" in page and "/admin/static/" in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "the docs page must load no outside assets"


def test_the_portal_gives_its_own_direct_compensation_verdict_and_debtor(client, shop):
    number = post(client, payload(shop[0])).json
    assert number["direct_compensation"] is True
    assert "art. 149" in number["direct_compensation_reason"]
    claim = Claim.get(Claim.number == number["number"])
    assert claim.insurer_id == claim.vehicle_a_insurer_id  # direct compensation: the customer's own insurer pays
    foreign = payload(shop[0], wincar_ref="WC-ESTERO")
    foreign["accident"]["vehicle_b"].update(plate="M AB 1234", country="D")
    body = post(client, foreign).json
    assert body["direct_compensation"] is False and "targa estera" in body["direct_compensation_reason"]
    assert Claim.get(Claim.number == body["number"]).insurer.name == "UnipolSai"


def test_same_plate_and_accident_date_is_flagged_as_a_possible_duplicate(client, shop, f):
    first = post(client, payload(shop[0])).json["number"]
    other = payload(shop[0], wincar_ref="WC-DOPPIO")
    other["accident"]["vehicle_a"]["plate"], other["accident"]["vehicle_b"]["plate"] = "ZZ999ZZ", "AB123CD"
    body = post(client, other).json
    assert body["possible_duplicates"] == [first]
    later = payload(shop[0], wincar_ref="WC-ALTRA-DATA")
    later["accident"]["date"] = "2026-09-15"
    assert post(client, later).json["possible_duplicates"] == []


def test_the_reply_never_names_nor_counts_another_repairers_duplicates(client, shop, f):
    centre, _ = shop
    theirs = f.claim(f.repairer(), f.centre(), vehicle_a_plate="EF456GH", vehicle_b_plate="KL789MN",
                     accident_date=dt.date(2026, 10, 1))
    mine = post(client, payload(centre)).json
    assert mine["possible_duplicates"] == []  # another body shop's file: not named, not counted
    assert theirs.number in Claim.get(Claim.number == mine["number"]).possible_duplicates  # kept for the call centre
    again = payload(centre, wincar_ref="WC-DI-NUOVO")
    body = post(client, again).json
    assert body["possible_duplicates"] == [mine["number"]]
    spec = client.get("/api/v1/openapi.json").json
    described = spec["components"]["schemas"]["ClaimOut"]["properties"]["possible_duplicates"]["description"]
    assert "stessa carrozzeria" in described


def test_anonymous_failures_lock_out_an_address_not_every_client(client, shop, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FREE_FAILURES", 2)
    for _ in range(2):
        assert post(client, payload(shop[0]), user=None).status_code == 401
    assert post(client, payload(shop[0]), user=None).status_code == 429  # same address
    IntakeEvent.update(remote_addr="10.0.0.9").where(IntakeEvent.http_status == 401).execute()
    assert post(client, payload(shop[0])).status_code == 201  # another address, a real UserID


@pytest.mark.parametrize("method, path, status", [("GET", "/api/v1/claims", 405), ("POST", "/api/v1/pratiche", 404)])
def test_wrong_addresses_and_methods_answer_problem_details_in_italian(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert "POST /api/v1/claims" in response.json["detail"]


def test_a_body_cut_short_is_400_and_leaves_nothing(client, shop):
    body = json.dumps(payload(shop[0])).encode()
    response = post_raw(client, body[: len(body) // 2], content_length=len(body))
    assert response.status_code == 400 and "incompleto" in response.json["detail"]
    assert Claim.select().count() == 0 and Attachment.select().count() == 0
    assert IntakeEvent.get().http_status == 400


def test_a_chunked_body_without_length_is_read_and_bounded(client, shop, app, monkeypatch):
    body = json.dumps(payload(shop[0])).encode()
    response = post_raw(client, body, content_length=None)
    assert response.status_code == 201, response.json
    monkeypatch.setitem(app.config, "INTAKE_MAX_BYTES", 300)
    response = post_raw(client, json.dumps(payload(shop[0], wincar_ref="WC-2")).encode(), content_length=None)
    assert response.status_code == 413 and "limite" in response.json["detail"], response.json
    assert Claim.select().count() == 1


def post_raw(client, body: bytes, *, content_length: int | None):
    """A post whose Content-Length the test sets (None: a chunked body, read to its end)."""
    environ = {"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": content_length is None}
    headers = {"Authorization": "Basic " + b64(f"CARR001:{PASSWORD}".encode()), "Content-Type": "application/json"}
    if content_length is None:
        headers["Transfer-Encoding"] = "chunked"
    else:
        environ["CONTENT_LENGTH"] = str(content_length)
    return client.open("/api/v1/claims", method="POST", headers=headers, environ_overrides=environ)
