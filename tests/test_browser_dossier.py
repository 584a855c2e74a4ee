"""A lawyer's journey in a real Chromium, with the real huey consumer building the dossier:
preview the claim letter, save it, build the dossier, watch its progress, download it."""
from __future__ import annotations

import io
import os
import sys

import pytest
from pypdf import PdfReader

from models import Attachment, Claim, ClaimDossier, ClaimStatus, DossierState, OutboundEmail, Role, db, utcnow
from workflows import clock
from workflows.attachments import storage_path, store_attachment

from .conftest import OUTPUT_DIR
from .test_browser import live_server, log_in, page  # noqa: F401 - fixtures
from .test_dossier import make_jpeg, make_pdf
from .workers import Consumer

pytestmark = pytest.mark.browser


@pytest.fixture
def consumer(app, tmp_path):
    """`huey_consumer tasks.huey` on the test database and storage, as in production."""
    from tasks import huey
    huey.flush()
    worker = Consumer(tmp_path / "huey_consumer.log", DATABASE_URL=app.config["DATABASE_URL"],
                      STORAGE_DIR=app.config["STORAGE_DIR"], PUBLIC_URL=app.config["PUBLIC_URL"],
                      GESSIN_INSTANCE=os.environ["GESSIN_INSTANCE"])
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        huey.flush()
        sys.stdout.write(f"\n--- huey_consumer log ---\n{worker.log_path.read_text(errors='replace')[-4000:]}\n")


def test_a_lawyer_previews_the_letter_builds_the_dossier_and_sends_it_to_the_claims_office(live_server, page, f, app,  # noqa: F811
                                                                               consumer, tmp_path):
    storage = app.config["STORAGE_DIR"]
    centre = f.centre(name="Centro Alfa", address="Via Dante 3, 20121 Milano (MI)", pec="alfa@pec.example.it")
    lawyer = f.lawyer(centre, name="Avv. Giulia Neri", pec="neri@pec.example.it", address="Corso Roma 1, 10121 Torino (TO)")
    insurer = f.insurer(name="Beta Assicurazioni", claims_address="Corso Beta 2, 10100 Torino (TO)",
                        claims_pec="sinistri@pec.beta.example.it")
    repairer = f.repairer(name="Carrozzeria Rossi", address="Via Emilia 10, 40100 Bologna (BO)",
                          inspection_hours="lun-ven 8:30-18:00")
    claim = f.claim(repairer, centre, lawyer=lawyer, vehicle_b_insurer=insurer, customer_name="Mario Rossi",
                    customer_fiscal_code="RSSMRA80A01H501U")
    store_attachment(claim, "denuncia", "denuncia.pdf", make_pdf(1, "Denuncia"), storage_dir=storage)
    store_attachment(claim, "preventivo", "preventivo.pdf", make_pdf(2, "Preventivo"), storage_dir=storage)
    store_attachment(claim, "foto", "foto-1.jpg", make_jpeg(), storage_dir=storage)
    user = f.user(Role.LAWYER, lawyer=lawyer, login="legale-neri")
    Claim.update(status=ClaimStatus.ASSIGNED).where(Claim.id == claim.id).execute()  # entrusted to the lawyer
    db.close()

    refused = []  # what the Content-Security-Policy blocked: the progress script must not be
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    log_in(page, live_server, user)
    page.goto(f"{live_server}/admin/claim/details/?id={claim.id}")
    assert "Beta Assicurazioni" in page.locator("#letter .letter-addressee").inner_text()
    page.fill("#letter-extra", "Il veicolo è fermo in officina dal giorno del sinistro.")
    with page.context.expect_event("response", predicate=lambda r: "/letter/" in r.url and r.url.endswith("/preview")) \
            as preview:
        page.click("#letter-preview")
    response = preview.value  # opened in a new tab, in Chromium's PDF viewer
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    # the viewer's page is not the PDF: the same form posted again gives its bytes
    form = {"csrf_token": page.locator("#letter-form input[name=csrf_token]").input_value(),
            "extra": page.input_value("#letter-extra")}
    again = page.request.post(response.url, form=form)
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(again.body())).pages)
    assert "Il veicolo è fermo in officina dal giorno del sinistro." in text and "Avv. Giulia Neri" in text

    page.click("#letter-save")
    page.wait_for_selector("text=Lettera di richiesta danni salvata tra gli allegati")
    letters = list(Attachment.select().where(Attachment.claim == claim, Attachment.kind == "richiesta_danni"))
    assert len(letters) == 1
    letter_pages = len(PdfReader(storage_path(storage, letters[0].stored_name)).pages)
    db.close()

    page.click("#dossier-build")
    page.wait_for_selector("#dossier-download", timeout=60_000)  # the page polls, then reloads once ready
    assert refused == []
    row = ClaimDossier.get(ClaimDossier.claim == claim)
    assert row.state == DossierState.READY and row.left_out == "[]"
    page.locator("#dossier").scroll_into_view_if_needed()
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "lawyer-dossier.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#dossier-download")
    saved = tmp_path / "fascicolo.pdf"
    download.value.save_as(saved)
    reader = PdfReader(saved)
    pages = len(reader.pages)
    assert pages == row.pages == 1 + 1 + letter_pages + 2 + 1  # cover, denuncia, the saved letter, estimate, photo
    letter_text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages[2:2 + letter_pages])
    assert "Il veicolo è fermo in officina" in letter_text
    assert all(f"pag. {n} di {pages}" in p.extract_text() for n, p in enumerate(reader.pages, 1))

    # the posting day of a raccomandata: the interruption's form opens with its means chosen
    page.click("#record-posting")
    assert page.input_value("#act-interrupt_prescription select[name=means]") == "raccomandata"

    # the dossier to the insurer's claims office, by PEC: chosen among the insurer's addresses,
    # it waits in the outbox and the claim stays Affidata until the PEC is delivered
    page.once("dialog", lambda dialog: dialog.accept())  # "Inviare la pratica all'ufficio sinistri?"
    assert page.input_value("#office-to") == "sinistri@pec.beta.example.it"
    page.check("#office-dossier")
    for box in page.locator("input[name=attachments]").all():
        box.uncheck()
    assert page.locator("#office-total").inner_text() == f"{row.size / 1048576:.1f}".replace(".", ",") + " MB"
    page.click("#office-send")
    page.wait_for_selector("text=In uscita verso l'ufficio sinistri: 1 messaggio.")
    assert page.locator(".badge.status-assigned").first.inner_text() == "Affidata"
    assert "Il messaggio non è ancora partito" in page.locator("#claims-office-sent").inner_text()
    page.screenshot(path=str(OUTPUT_DIR / "lawyer-sends-to-claims-office.png"), full_page=True)
    [sent] = OutboundEmail.select().where(OutboundEmail.claim == claim,
                                          OutboundEmail.recipients == "sinistri@pec.beta.example.it")
    assert [a.sha256 for a in sent.attachments] == [row.sha256]

    # the SMTP server accepts it (as the worker records it): the PEC then waits for its delivery receipt
    OutboundEmail.update(status="sent", sent_at=utcnow()).where(OutboundEmail.id == sent.id).execute()
    db.close()
    page.reload()
    today = clock.today().strftime("%d/%m/%Y")
    waiting = page.locator("#claims-office-sent").inner_text()
    assert f"PEC inviata il {today}, in attesa della ricevuta di consegna." in waiting
    receipt = page.locator("#claims-office-sent form")
    receipt.locator("[name=delivered_on]").fill(today)
    receipt.locator("[name=delivered_on]").press("Tab")  # the calendar closes, as when the clerk moves on
    receipt.locator("button[type=submit]").click()
    page.wait_for_selector("text=Ricevuta di consegna registrata")
    assert page.locator(".badge.status-filed").first.inner_text() == "Richiesta inviata"
    assert Claim.get_by_id(claim.id).claim_filed_on == clock.today()
    db.close()
