"""The claim page's letter and dossier through the test client: who may, what is answered, with which headers."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from models import Attachment, ClaimDossier, DossierState, Role
from workflows import dossier
from workflows.attachments import store_attachment

from .conftest import csrf_token, login
from .test_dossier import make_jpeg, make_pdf


@pytest.fixture
def net(f, app):
    centre = f.centre(name="Centro Alfa", address="Via Dante 3, 20121 Milano (MI)", pec="alfa@pec.example.it")
    lawyer = f.lawyer(centre, name="Avv. Neri", pec="neri@pec.example.it", address="Corso Roma 1, 10100 Torino (TO)")
    repairer = f.repairer(name="Carrozzeria Alfa", inspection_hours="lun-ven 9-18")
    insurer = f.insurer(name="Beta Assicurazioni", claims_address="Corso Beta 2, 10100 Torino (TO)")
    claim = f.claim(repairer, centre, lawyer=lawyer, vehicle_b_insurer=insurer, customer_name="Mario Rossi")
    store_attachment(claim, "denuncia", "denuncia.pdf", make_pdf(1, "Denuncia"), storage_dir=app.config["STORAGE_DIR"])
    store_attachment(claim, "foto", "foto.jpg", make_jpeg(), storage_dir=app.config["STORAGE_DIR"])
    other = f.centre(name="Centro Beta")
    users = {
        "admin": f.user(Role.ADMIN),
        "manager": f.user(Role.ASP_MANAGER, asp_centre=centre),
        "lawyer": f.user(Role.LAWYER, lawyer=lawyer),
        "repairer": f.user(Role.REPAIRER, repairer=repairer),
        "outsider": f.user(Role.ASP_MANAGER, asp_centre=other),
    }
    return claim, users


def _post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, "/admin/"), **data})


@pytest.mark.parametrize("role", ("admin", "manager", "lawyer"))
def test_the_preview_is_an_inline_pdf_under_the_attachment_previews_policy(client, net, role):
    claim, users = net
    login(client, users[role])
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "Lettera di richiesta danni" in page and "Beta Assicurazioni" in page
    response = _post(client, f"/admin/claim/letter/{claim.id}/preview", extra="Paragrafo di prova del legale.")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    text = " ".join(PdfReader(io.BytesIO(response.data)).pages[0].extract_text().split())
    assert "Paragrafo di prova del legale." in " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Mario Rossi" in text
    assert Attachment.select().where(Attachment.kind == "richiesta_danni").count() == 0  # a preview stores nothing


def test_saving_adds_a_version_and_keeps_the_previous(client, net):
    claim, users = net
    login(client, users["lawyer"])
    for _ in range(2):
        assert _post(client, f"/admin/claim/letter/{claim.id}/save", extra="").status_code == 302
    versions = sorted(a.version for a in Attachment.select().where(Attachment.claim == claim,
                                                                     Attachment.kind == "richiesta_danni"))
    assert versions == [1, 2]


def test_the_body_shop_sees_the_claim_but_prepares_nothing(client, net):
    claim, users = net
    login(client, users["repairer"])
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "Prepara il fascicolo" not in page and "Lettera di richiesta danni" not in page
    assert _post(client, f"/admin/claim/letter/{claim.id}/preview").status_code == 403
    assert _post(client, f"/admin/claim/letter/{claim.id}/save").status_code == 403
    assert _post(client, f"/admin/claim/dossier/{claim.id}/build").status_code == 403
    assert ClaimDossier.select().count() == 0


def test_someone_outside_the_claim_gets_404_everywhere(client, net, app):
    claim, users = net
    row, _ = dossier.request(claim, users["manager"])
    dossier.build(row.id, app.config["STORAGE_DIR"])
    login(client, users["outsider"])
    for url in (f"/admin/claim/letter/{claim.id}/preview", f"/admin/claim/letter/{claim.id}/save",
                f"/admin/claim/dossier/{claim.id}/build"):
        assert _post(client, url).status_code == 404, url
    for url in (f"/admin/claim/dossier/{row.id}/status", f"/admin/claim/dossier/{row.id}/download",
                f"/admin/claim/dossier/{row.id}/print"):
        assert client.get(url).status_code == 404, url
    assert Attachment.select().where(Attachment.kind == "richiesta_danni").count() == 0


def test_building_queues_the_worker_then_the_page_offers_the_download(client, net, app):
    claim, users = net
    login(client, users["manager"])
    docs = [a.id for a in claim.attachments]
    response = _post(client, f"/admin/claim/dossier/{claim.id}/build", choose="1", attachment=docs)
    assert response.status_code == 302
    row = ClaimDossier.get(ClaimDossier.claim == claim)
    assert row.state == DossierState.QUEUED
    status = client.get(f"/admin/claim/dossier/{row.id}/status").get_json()
    assert status["state"] == "queued" and "download" not in status
    assert client.get(f"/admin/claim/dossier/{row.id}/download").status_code == 404  # not ready yet
    dossier.build(row.id, app.config["STORAGE_DIR"])  # what the worker does (the browser test runs the real one)
    status = client.get(f"/admin/claim/dossier/{row.id}/status").get_json()
    assert status["state"] == "ready" and status["percent"] == 100 and status["left_out"] == []
    download = client.get(status["download"])
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    assert len(PdfReader(io.BytesIO(download.data)).pages) == status["pages"]
    printed = client.get(status["print"])
    assert len(PdfReader(io.BytesIO(printed.data)).pages) == status["pages"] + 2
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "Scarica il fascicolo" in page and "Stampa per raccomandata" in page
    # asked again with the same documents: nothing queued
    _post(client, f"/admin/claim/dossier/{claim.id}/build", choose="1", attachment=docs)
    assert ClaimDossier.get_by_id(row.id).state == DossierState.READY


def test_a_left_out_document_is_named_on_the_page(client, net, app):
    claim, users = net
    store_attachment(claim, "perizia", "perizia-rotta.pdf", b"%PDF-1.4 rotto", storage_dir=app.config["STORAGE_DIR"])
    row, _ = dossier.request(claim, users["manager"])
    dossier.build(row.id, app.config["STORAGE_DIR"])
    login(client, users["lawyer"])
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "Documenti esclusi dal fascicolo" in page and "perizia-rotta.pdf" in page


def test_the_repairers_form_sets_its_inspection_hours_and_iban(client, net):
    claim, users = net
    login(client, users["repairer"])
    url = f"/admin/repairer/edit/?id={claim.repairer_id}"
    form = client.get(url).get_data(as_text=True)
    assert 'name="inspection_hours"' in form and 'name="iban"' in form
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "email": claim.repairer.email,
                                      "inspection_hours": "sabato 9-12", "iban": "IT60X0542811101000000123456"})
    assert response.status_code == 302
    refused = client.post(url, data={"csrf_token": csrf_token(client, url), "email": claim.repairer.email,
                                     "iban": "IT00X0542811101000000123456"})
    assert refused.status_code == 200 and "IBAN non valido" in refused.get_data(as_text=True)
    from models import Repairer
    shop = Repairer.get_by_id(claim.repairer_id)
    assert (shop.inspection_hours, shop.iban) == ("sabato 9-12", "IT60X0542811101000000123456")


def test_the_card_lists_the_copy_what_is_missing_and_the_means(client, net, f):
    claim, users = net
    claim.direct_compensation, claim.procedure = True, None
    claim.vehicle_a_insurer = f.insurer(name="Alfa Assicurazioni", claims_pec="sinistri@pec.alfa.example.it")
    claim.save()
    login(client, users["manager"])
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert 'class="letter-copy">Beta Assicurazioni<' in page  # the copy to the liable party's insurer
    assert "l&#39;indirizzo dell&#39;ufficio sinistri della compagnia destinataria" in page
    assert "l&#39;IBAN del danneggiato, beneficiario del pagamento" in page
    assert '<option value="pec" selected>' in page  # the addressee has a PEC
    response = _post(client, f"/admin/claim/letter/{claim.id}/preview", means="raccomandata")
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "A mezzo raccomandata A/R" in text and "e p.c." in text


def test_the_print_for_a_raccomandata_is_refused_without_the_postal_address(client, net, app):
    claim, users = net
    claim.vehicle_b_insurer.claims_address = None
    claim.vehicle_b_insurer.save()
    row, _ = dossier.request(claim, users["manager"])
    dossier.build(row.id, app.config["STORAGE_DIR"])
    login(client, users["manager"])
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "Scarica il fascicolo" in page and 'id="dossier-print"' not in page  # warned before any click
    assert "manca l&#39;indirizzo postale dell&#39;ufficio sinistri di Beta Assicurazioni" in page
    assert "print" not in client.get(f"/admin/claim/dossier/{row.id}/status").get_json()
    refused = client.get(f"/admin/claim/dossier/{row.id}/print")
    assert refused.status_code == 302 and refused.headers["Location"].endswith("#dossier")
    shown = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Stampa per raccomandata non disponibile" in shown and "Anagrafiche &gt; Compagnie" in shown
