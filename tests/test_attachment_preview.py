"""A document opened in the browser: only PDFs and images, inline only as the type its bytes have."""
from __future__ import annotations

import pytest

from models import Attachment, Role
from workflows.attachments import storage_path, store_attachment

from .conftest import login
from .test_workflows import desk  # noqa: F401 - fixture

PDF = b"%PDF-1.4 documento di prova"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
TIFF = b"II*\x00" + b"\x00" * 32


def _stored(desk, kind, name, data):
    claim = desk.f.claim(desk.repairer, desk.centre)
    return store_attachment(claim, kind, name, data, storage_dir=desk.app.config["STORAGE_DIR"])


@pytest.mark.parametrize("name, data, content_type", [
    ("denuncia.pdf", PDF, "application/pdf"), ("foto.jpg", JPEG, "image/jpeg"), ("foto.png", PNG, "image/png")])
def test_a_pdf_or_an_image_opens_in_the_browser_as_its_own_type(client, desk, name, data, content_type):
    doc = _stored(desk, "denuncia", name, data)
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.get(f"/admin/claim/attachment/{doc.id}/preview")
    assert response.status_code == 200 and response.data == data
    assert response.headers["Content-Type"] == content_type
    assert response.headers["Content-Disposition"] == f"inline; filename={name}"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy and "frame-ancestors 'none'" in policy
    assert response.headers["Cache-Control"] == "no-store"


def test_the_claim_page_offers_to_open_pdfs_and_images_but_not_a_tiff(client, desk):
    pdf = _stored(desk, "denuncia", "denuncia.pdf", PDF)
    tiff = store_attachment(pdf.claim, "mandato", "mandato.tif", TIFF, storage_dir=desk.app.config["STORAGE_DIR"])
    login(client, desk.users[Role.ASP_MANAGER])
    page = client.get(f"/admin/claim/details/?id={pdf.claim.id}").get_data(as_text=True)
    assert f"/admin/claim/attachment/{pdf.id}/preview" in page
    assert f"/admin/claim/attachment/{tiff.id}/preview" not in page and f"/admin/claim/attachment/{tiff.id}" in page


def test_a_tiff_asked_for_inline_is_downloaded_instead(client, desk):
    doc = _stored(desk, "mandato", "mandato.tif", TIFF)
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.get(f"/admin/claim/attachment/{doc.id}/preview")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/claim/attachment/{doc.id}")


def test_bytes_that_are_not_what_the_row_says_are_never_served_inline(client, desk):
    doc = _stored(desk, "denuncia", "denuncia.pdf", PDF)
    path = storage_path(desk.app.config["STORAGE_DIR"], doc.stored_name)
    path.write_bytes(b"<html><script>alert(document.cookie)</script></html>")  # replaced on disk
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.get(f"/admin/claim/attachment/{doc.id}/preview")
    assert response.status_code == 302
    download = client.get(response.headers["Location"])
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Content-Type"] == "application/pdf"  # never text/html


def test_someone_outside_the_claim_cannot_open_its_document(client, desk):
    doc = _stored(desk, "denuncia", "denuncia.pdf", PDF)
    other_centre = desk.f.centre()
    login(client, desk.f.user(Role.ASP_MANAGER, asp_centre=other_centre))
    assert client.get(f"/admin/claim/attachment/{doc.id}/preview").status_code == 404
    assert Attachment.select().count() == 1
