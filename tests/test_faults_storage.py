"""A full disk under the documents' storage: 507, nothing half-saved, reads still served.

The fault is made at the filesystem boundary: `Path.write_bytes` writes part of the file
and then fails with ENOSPC, as the kernel does when the disk fills up mid-write.
"""
from __future__ import annotations

import errno
import logging
from pathlib import Path

import pytest

from models import Attachment, Claim, IntakeEvent, Role
from workflows import attachments
from workflows.errors import StorageFull

from .conftest import login
from .test_intake import PDF, b64, payload, post, shop, stored_files  # noqa: F401 - fixtures and builders


@pytest.fixture
def disk_fills_up(monkeypatch):
    """From the `after`-th document written on, the disk is full: half of it lands, then ENOSPC."""
    real_write, state = Path.write_bytes, {"after": None, "written": 0}

    def write_bytes(path, data):
        if state["after"] is not None and state["written"] >= state["after"]:
            with open(path, "wb") as out:
                out.write(bytes(data)[:len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        written = real_write(path, data)
        state["written"] += 1
        return written
    monkeypatch.setattr(Path, "write_bytes", write_bytes)

    def full_after(count: int):
        state.update(after=count, written=0)
    return full_after


def test_a_full_disk_answers_507_keeps_no_partial_file_and_still_serves_documents(
        client, shop, app, f, disk_fills_up, caplog):
    centre, _repairer = shop
    first = post(client, payload(centre, wincar_ref="WC-PRIMA"))
    assert first.status_code == 201
    before = stored_files(app)

    body = payload(centre)
    body["attachments"].append({"type": "mandato", "filename": "mandato.pdf", "content_base64": b64(PDF * 2000)})
    disk_fills_up(2)  # two documents written, the third meets the full disk
    with caplog.at_level(logging.INFO):
        response = post(client, body)
    assert response.status_code == 507, response.json
    assert response.mimetype == "application/problem+json"
    detail = response.json["detail"]
    assert "Spazio di archiviazione" in detail and "esaurito" in detail and "mandato.pdf" in detail
    assert stored_files(app) == before  # neither the two written nor the partial third
    assert Claim.select().count() == 1 and Attachment.select().count() == 2
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(m.startswith("storage full") for m in errors), errors
    assert IntakeEvent.select().where(IntakeEvent.http_status == 507).count() == 1

    login(client, f.user(Role.ADMIN))  # reading goes on
    document = Attachment.select().order_by(Attachment.id).first()
    download = client.get(f"/admin/claim/attachment/{document.id}")
    assert download.status_code == 200 and download.data == PDF


def test_a_full_disk_during_a_seguito_leaves_the_claim_as_it_was(client, shop, app, disk_fills_up):
    centre, _repairer = shop
    number = post(client, payload(centre)).json["number"]
    follow = payload(centre, event="seguito", estimate_amount="1900.00")
    follow["attachments"] = [{"type": "mandato", "filename": "mandato.pdf", "content_base64": b64(PDF + b"v2")}]
    disk_fills_up(0)
    response = post(client, follow)
    assert response.status_code == 507
    claim = Claim.get(Claim.number == number)
    assert str(claim.estimate_amount) == "1520.40" and claim.attachments.count() == 2
    assert len(stored_files(app)) == 2


def test_a_web_upload_on_a_full_disk_saves_nothing_and_says_why_in_italian(app, f, tmp_path, disk_fills_up, caplog):
    claim = f.claim(f.repairer(), f.centre())
    disk_fills_up(0)
    with caplog.at_level(logging.ERROR, logger="gessin.workflows"), pytest.raises(StorageFull) as refused:
        attachments.add_document(claim, "denuncia", "denuncia.pdf", PDF * 100, storage_dir=tmp_path,
                                 actor=f.user(Role.ADMIN))
    assert "Spazio di archiviazione dei documenti esaurito" in str(refused.value.message)
    assert "denuncia.pdf" in str(refused.value.message)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))
    assert Attachment.select().where(Attachment.claim == claim).count() == 0
    assert [r.levelno for r in caplog.records] == [logging.ERROR]


def test_a_storage_full_error_is_an_italian_507_page_for_people(app):
    """What the site answers when a workflow reports a full disk (the handler the app registered)."""
    with app.test_request_context("/admin/claim/"):
        response = app.make_response(app.handle_user_exception(StorageFull("il documento «x.pdf» non è stato salvato")))
    page = response.get_data(as_text=True)
    assert response.status_code == 507 and "Spazio di archiviazione esaurito" in page and "x.pdf" in page
    with app.test_request_context("/api/v1/claims", method="POST"):
        response = app.make_response(app.handle_user_exception(StorageFull("pieno")))
    assert response.status_code == 507 and response.mimetype == "application/problem+json"
