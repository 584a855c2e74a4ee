"""Documents uploaded from the claim page: several at once, typed, checked like WinCar's,
all or nothing; a repairer sends what its incomplete file lacks."""
from __future__ import annotations

import io

import pytest

from models import Attachment, Claim, ClaimStatus, OutboundEmail, Role, StatusChange
from workflows import engine

from .conftest import csrf_token, login
from .test_browser import CHROMIUM, CHROMIUM_ARGS, OUTPUT_DIR, live_server, log_in  # noqa: F401 - fixture
from .test_workflows import claim_in, desk, new_claim  # noqa: F401 - fixtures

PDF = b"%PDF-1.4 documento"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def lacking_identity(desk):
    claim = new_claim(desk, documents=("denuncia", "mandato", "cessione_credito", "richiesta_danni"))
    return engine.apply("mark_incomplete", claim, desk.users[Role.ASP_MANAGER], missing=["doc:documento_identita"])


def post_files(client, claim, kind, *files):
    token = csrf_token(client, "/admin/")
    return client.post(f"/admin/claim/upload/{claim.id}", content_type="multipart/form-data", data={
        "csrf_token": token, "kind": kind, "files": [(io.BytesIO(data), name) for name, data in files]})


def stored_count(desk) -> int:
    from pathlib import Path
    return sum(1 for p in Path(desk.app.config["STORAGE_DIR"]).rglob("*") if p.is_file())


def test_the_centre_uploads_several_photos_at_once(client, desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    emails = OutboundEmail.select().count()
    response = post_files(client, claim, "foto", ("fronte.jpg", JPEG), ("retro.pdf", PDF))
    assert response.status_code == 302 and response.headers["Location"].endswith("#attachments")
    photos = list(Attachment.select().where(Attachment.claim == claim, Attachment.kind == "foto")
                  .order_by(Attachment.version))
    assert [(a.original_name, a.content_type, a.version, a.source) for a in photos] == [
        ("fronte.jpg", "image/jpeg", 1, "web"), ("retro.pdf", "application/pdf", 2, "web")]
    last = StatusChange.select().where(StatusChange.claim == claim).order_by(StatusChange.id.desc()).get()
    assert last.event == "upload" and "fronte.jpg, retro.pdf" in last.note
    assert OutboundEmail.select().count() == emails  # the centre's own upload tells nobody
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "2 documenti caricati sulla pratica" in page and "fronte.jpg" in page


def test_the_medical_certificate_of_recovery_is_a_kind_of_document_uploads_and_wincar_accept(client, desk):
    from intake_api.schema import AttachmentIn
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    login(client, desk.users[Role.ASP_MANAGER])
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert '<option value="certificato_medico">Certificato medico di guarigione</option>' in page
    assert post_files(client, claim, "certificato_medico", ("guarigione.pdf", PDF)).status_code == 302
    assert Attachment.get(Attachment.claim == claim, Attachment.kind == "certificato_medico").original_name == \
        "guarigione.pdf"
    assert AttachmentIn.model_validate({"type": "certificato_medico", "filename": "g.pdf", "content_base64": "JVBERi0="})


def test_one_wrong_file_names_itself_and_nothing_is_saved(client, desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    attachments, files_before = Attachment.select().count(), stored_count(desk)
    big = b"%PDF-1.4" + b"0" * (desk.app.config["INTAKE_MAX_FILE_BYTES"] + 1)
    post_files(client, claim, "foto", ("buona.pdf", PDF), ("pagina.html", b"<html>ciao</html>"), ("vuota.pdf", b""),
               ("enorme.pdf", big))
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "«pagina.html» non è un PDF, JPEG, PNG o TIFF." in page
    assert "«vuota.pdf» è vuoto." in page and "«enorme.pdf» supera il limite di 10 MB per file." in page
    assert Attachment.select().count() == attachments and stored_count(desk) == files_before


def test_a_repairer_sends_the_missing_document_and_the_file_goes_back_to_validation(client, desk):
    claim = lacking_identity(desk)
    login(client, desk.users[Role.REPAIRER])
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert 'id="upload-form"' in page
    assert page.index('value="documento_identita"') < page.index('value="denuncia"')  # what is missing first
    before = OutboundEmail.select().count()
    post_files(client, claim, "documento_identita", ("carta.jpg", JPEG))
    saved = Claim.get_by_id(claim.id)
    assert saved.status == ClaimStatus.RECEIVED and saved.missing_items is None
    emails = list(OutboundEmail.select().order_by(OutboundEmail.id))[before:]
    assert sorted(e.recipients for e in emails) == sorted([desk.repairer.email, desk.centre.email])
    assert all(e.subject == f"Pratica {claim.number}: documentazione completa, torna in validazione" for e in emails)


def test_a_repairers_upload_that_leaves_things_missing_tells_the_centre(client, desk):
    claim = lacking_identity(desk)
    login(client, desk.users[Role.REPAIRER])
    before = OutboundEmail.select().count()
    post_files(client, claim, "foto", ("auto.jpg", JPEG))
    assert Claim.get_by_id(claim.id).status == ClaimStatus.INCOMPLETE
    [email] = list(OutboundEmail.select().order_by(OutboundEmail.id))[before:]
    assert email.recipients == desk.centre.email
    assert email.subject == f"Pratica {claim.number}: la carrozzeria ha caricato un documento (Foto)"


def test_a_repairer_uploads_only_to_its_own_incomplete_file(client, desk):
    received = new_claim(desk)
    theirs = lacking_identity(desk)
    other_shop_user = desk.f.user(Role.REPAIRER, repairer=desk.f.repairer())
    login(client, desk.users[Role.REPAIRER])
    assert 'id="upload-form"' not in client.get(f"/admin/claim/details/?id={received.id}").get_data(as_text=True)
    post_files(client, received, "foto", ("auto.jpg", JPEG))
    assert Attachment.select().where(Attachment.claim == received, Attachment.kind == "foto").count() == 0
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    login(client, other_shop_user)
    response = post_files(client, theirs, "documento_identita", ("carta.jpg", JPEG))
    assert response.status_code == 404
    assert Claim.get_by_id(theirs.id).status == ClaimStatus.INCOMPLETE


def test_an_upload_over_the_request_limit_is_refused_in_italian(client, desk, monkeypatch):
    monkeypatch.setitem(desk.app.config, "UPLOAD_MAX_BYTES", 1000)
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    response = post_files(client, claim, "foto", ("grande.pdf", PDF + b"0" * 2000))
    assert response.status_code == 413 and "supera la dimensione ammessa" in response.get_data(as_text=True)
    assert Attachment.select().where(Attachment.claim == claim, Attachment.kind == "foto").count() == 0


@pytest.mark.browser
def test_a_repairer_uploads_the_missing_document_in_a_browser(desk, live_server, tmp_path):
    from playwright.sync_api import sync_playwright
    claim = lacking_identity(desk)
    card = tmp_path / "carta-identita.jpg"
    card.write_bytes(JPEG)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="it-IT", viewport={"width": 1300, "height": 1000}).new_page()
        log_in(page, live_server, desk.users[Role.REPAIRER])
        page.goto(f"{live_server}/admin/claim/details/?id={claim.id}")
        page.get_by_label("Tipo di documento").select_option("documento_identita")
        page.get_by_label("File (PDF, JPEG, PNG o TIFF; anche più di uno)").set_input_files(str(card))
        page.get_by_role("button", name="Carica").click()
        page.wait_for_url("**#attachments")
        assert "1 documento caricato" in page.content()
        assert page.locator(".badge.status-received").first.is_visible()
        OUTPUT_DIR.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT_DIR / "repairer-uploads-missing-document.png"), full_page=True)
        browser.close()
    assert Claim.get_by_id(claim.id).status == ClaimStatus.RECEIVED


@pytest.mark.browser
def test_a_claim_entered_by_hand_then_its_documents_in_a_browser(desk, live_server, tmp_path):
    from playwright.sync_api import sync_playwright
    desk.f.claim(desk.repairer, desk.centre)  # the repairer already works with the centre
    from models import db
    db.close()
    scans = [tmp_path / "denuncia.pdf", tmp_path / "foto-danno.jpg"]
    scans[0].write_bytes(PDF)
    scans[1].write_bytes(JPEG)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="it-IT", viewport={"width": 1300, "height": 1000}).new_page()
        log_in(page, live_server, desk.users[Role.ASP_MANAGER])
        page.goto(f"{live_server}/admin/claim/new/")
        page.locator('select[name="repairer"]').select_option(str(desk.repairer.id))
        page.locator('[name="customer_name"]').fill("Lucia Bruni")
        page.locator('[name="accident_date"]').fill("01/10/2026")
        page.keyboard.press("Escape")  # the date picker's pop-up
        page.locator('[name="vehicle_a_plate"]').fill("GH 456 KL")
        page.locator('input[name="vehicle_a_circumstances"][value="8"]').check()
        page.locator('input[name="vehicle_b_circumstances"][value="1"]').check()
        page.locator('form.admin-form input[type="submit"]').first.click()
        page.wait_for_url("**/admin/claim/details/**")
        assert "tamponava procedendo nello stesso senso e nella stessa fila" in page.content()
        page.get_by_label("Tipo di documento").select_option("denuncia")
        page.get_by_label("File (PDF, JPEG, PNG o TIFF; anche più di uno)").set_input_files([str(s) for s in scans])
        page.get_by_role("button", name="Carica").click()
        page.wait_for_selector("text=2 documenti caricati")
        page.screenshot(path=str(OUTPUT_DIR / "manual-claim-with-uploads.png"), full_page=True)
        browser.close()
    claim = Claim.get(Claim.customer_name == "Lucia Bruni")
    assert (claim.vehicle_a_plate, claim.vehicle_a_circumstances, claim.vehicle_b_circumstances) == ("GH456KL", "8", "1")
    assert sorted(a.original_name for a in claim.attachments) == ["denuncia.pdf", "foto-danno.jpg"]
