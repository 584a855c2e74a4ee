"""The workflow through the admin: claim page buttons, bulk actions, progress of big jobs."""
from __future__ import annotations

import json
import re

from models import BulkJob, Claim, ClaimStatus, Role
from tasks.bulk import run_bulk_job

from .conftest import csrf_token, login
from .test_workflows import TODAY, claim_in, desk, new_claim  # noqa: F401 - fixtures and builders


def details(client, claim):
    return client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)


def test_the_claim_page_shows_one_button_per_allowed_event(client, desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    page = details(client, claim)
    for event in ("mark_incomplete", "assign", "self_assign", "close", "drop"):
        assert f'data-event="{event}"' in page, event
    for event in ("validate", "file_claim", "reopen", "record_payment"):
        assert f'data-event="{event}"' not in page, event
    login(client, desk.users[Role.REPAIRER])
    assert 'id="actions"' not in details(client, claim)


def test_an_asp_manager_entrusts_a_claim_from_its_page(client, desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    page = details(client, claim)
    assert "Avv. Alfa" in page  # the lawyer picker lists the centre's lawyers
    response = client.post(f"/admin/claim/act/{claim.id}/assign", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version,
        "lawyer": desk.lawyer.id, "note": "Urgente"}, follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "Affida a un legale eseguita" in text and "Stato: Affidata" in text
    saved = Claim.get_by_id(claim.id)
    assert (saved.status, saved.lawyer_id) == (ClaimStatus.ASSIGNED, desk.lawyer.id)
    assert "Urgente" in text  # the history timeline shows the note


def test_a_refused_event_says_why_in_italian_and_changes_nothing(client, desk):
    claim = new_claim(desk, documents=("denuncia",))
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.post(f"/admin/claim/act/{claim.id}/validate", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version}, follow_redirects=True)
    assert "La pratica non è completa" in response.get_data(as_text=True)
    assert Claim.get_by_id(claim.id).status == ClaimStatus.RECEIVED


def test_a_stale_page_is_told_the_file_changed(client, desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    token = csrf_token(client, "/admin/claim/")
    client.post(f"/admin/claim/act/{claim.id}/self_assign", data={"csrf_token": token, "version": claim.version})
    response = client.post(f"/admin/claim/act/{claim.id}/drop", data={
        "csrf_token": token, "version": claim.version, "reason": "duplicate"}, follow_redirects=True)
    assert "modificata da un altro utente" in response.get_data(as_text=True)
    assert Claim.get_by_id(claim.id).status == ClaimStatus.ASSIGNED


def test_mark_incomplete_from_the_page_lists_the_ticked_items(client, desk):
    claim = new_claim(desk, documents=("denuncia", "mandato"))
    login(client, desk.users[Role.ASP_MANAGER])
    page = details(client, claim)
    assert 'value="doc:cessione_credito" id="mark_incomplete-missing-' in page
    client.post(f"/admin/claim/act/{claim.id}/mark_incomplete", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version,
        "missing": ["doc:cessione_credito", "doc:documento_identita"], "note": "Serve la firma"})
    page = details(client, claim)
    assert "Cosa manca" in page and "la cessione del credito firmata dal cliente" in page and "Serve la firma" in page


def test_someone_elses_claim_cannot_be_acted_on(client, desk):
    foreign = desk.f.claim(desk.f.repairer(), desk.f.centre())
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.post(f"/admin/claim/act/{foreign.id}/drop", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "reason": "duplicate"})
    assert response.status_code == 404
    assert Claim.get_by_id(foreign.id).status == ClaimStatus.RECEIVED


def bulk_post(client, action, **form):
    data = {"csrf_token": csrf_token(client, "/admin/claim/"), "action": action,
            "url": "/admin/claim/?flt0_0=validated", **form}
    return client.post("/admin/claim/action/", data=data)


def test_bulk_entrust_selected_rows_and_keep_the_filters(client, desk):
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(3)]
    login(client, desk.users[Role.ASP_MANAGER])
    grid = client.get("/admin/claim/?flt0_0=validated").get_data(as_text=True)
    assert 'id="bulk-panel"' in grid and "Avv. Alfa" in grid
    response = bulk_post(client, "assign", rowid=[c.id for c in claims[:2]], lawyer=desk.lawyer.id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/claim/?flt0_0=validated")
    statuses = [Claim.get_by_id(c.id).status for c in claims]
    assert statuses == [ClaimStatus.ASSIGNED, ClaimStatus.ASSIGNED, ClaimStatus.VALIDATED]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 pratiche aggiornate" in page


def test_bulk_on_every_filtered_row_not_only_the_page(client, desk):
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(25)]
    other = claim_in(desk, ClaimStatus.RECEIVED)
    login(client, desk.users[Role.ASP_MANAGER])
    bulk_post(client, "self_assign", bulk_scope="filtered", bulk_query="flt0_0=validated")
    assert all(Claim.get_by_id(c.id).status == ClaimStatus.ASSIGNED for c in claims)
    assert Claim.get_by_id(other.id).status == ClaimStatus.RECEIVED


def test_bulk_skips_are_reported_with_reasons(client, desk):
    ready, received = claim_in(desk, ClaimStatus.VALIDATED), claim_in(desk, ClaimStatus.RECEIVED)
    login(client, desk.users[Role.ASP_MANAGER])
    response = bulk_post(client, "drop", rowid=[ready.id, received.id], reason="other")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 pratiche saltate" in page and "«Altro»" in page


def test_lawyers_and_repairers_have_no_bulk_actions(client, desk):
    claim_in(desk, ClaimStatus.ASSIGNED)
    for role in (Role.LAWYER, Role.REPAIRER):
        login(client, desk.users[role])
        assert 'id="bulk-panel"' not in client.get("/admin/claim/").get_data(as_text=True)
        response = bulk_post(client, "self_assign", bulk_scope="filtered", bulk_query="")
        assert response.status_code in (302, 403)
    assert Claim.select().where(Claim.status == ClaimStatus.ASSIGNED).count() == 1


def test_a_large_bulk_job_runs_in_the_worker_with_progress(client, desk, app, monkeypatch):
    monkeypatch.setitem(app.config, "BULK_INLINE_LIMIT", 2)
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(4)]
    login(client, desk.users[Role.ASP_MANAGER])
    response = bulk_post(client, "self_assign", bulk_scope="filtered", bulk_query="flt0_0=validated")
    assert "/admin/claim/bulk/" in response.headers["Location"]
    job = BulkJob.get()
    assert (job.status, job.total, job.processed) == ("queued", 4, 0)
    assert 'data-status="queued"' in client.get(response.headers["Location"]).get_data(as_text=True)
    import tasks
    monkeypatch.setattr(tasks, "_app", app)
    assert run_bulk_job.call_local(job.id) == "done"
    assert run_bulk_job.call_local(job.id) == "skipped"  # a second delivery does nothing
    job = BulkJob.get_by_id(job.id)
    assert (job.status, job.processed, job.succeeded, json.loads(job.skipped)) == ("done", 4, 4, [])
    assert all(Claim.get_by_id(c.id).status == ClaimStatus.ASSIGNED for c in claims)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-status="done"' in page and "100%" in page


def test_work_queues_show_their_claims_and_count(client, desk):
    waiting = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(2)]
    received = claim_in(desk, ClaimStatus.RECEIVED)
    login(client, desk.users[Role.ASP_MANAGER])
    page = client.get("/admin/queue/to-assign/").get_data(as_text=True)
    assert all(c.number in page for c in waiting) and received.number not in page
    assert re.search(r"Elenco\s*\(2\)", page)
    for slug in ("to-validate", "incomplete", "assigned", "awaiting-offer", "partially-reimbursed", "closed"):
        assert client.get(f"/admin/queue/{slug}/").status_code == 200
    menu = client.get("/admin/").get_data(as_text=True)
    assert "Code di lavoro" in menu and "Da affidare" in menu and "In attesa di offerta" in menu


def test_a_claim_acted_on_from_a_queue_still_opens_there(client, desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.post(f"/admin/queue/to-assign/act/{claim.id}/self_assign", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version}, follow_redirects=True)
    assert response.status_code == 200 and "Affidata" in response.get_data(as_text=True)
    assert claim.number not in client.get("/admin/queue/to-assign/").get_data(as_text=True)
    assert claim.number in client.get("/admin/queue/assigned/").get_data(as_text=True)
