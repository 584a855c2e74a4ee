"""Bulk actions that check first: one menu, the queue's own actions, a confirmation naming
what will happen, the missing choice refused before anything starts, skips grouped."""
from __future__ import annotations

import re

import pytest

from models import BulkJob, Claim, ClaimStatus, Role
from workflows.bulk import BulkResult

from .conftest import csrf_token, login
from .test_admin_workflow import bulk_post
from .test_browser import CHROMIUM, CHROMIUM_ARGS, OUTPUT_DIR, live_server, log_in  # noqa: F401 - fixture
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures


def offered(page: str) -> list[str]:
    select = re.search(r'<select id="bulk-action"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.findall(r'<option value="(\w+)"', select)


def test_each_queue_offers_only_the_actions_its_claims_can_take(client, desk):
    login(client, desk.users[Role.ASP_MANAGER])
    assert sorted(offered(client.get("/admin/queue/to-validate/").get_data(as_text=True))) == ["drop", "validate"]
    assert sorted(offered(client.get("/admin/queue/to-assign/").get_data(as_text=True))) == [
        "assign", "drop", "self_assign"]
    assert sorted(offered(client.get("/admin/claim/").get_data(as_text=True))) == [
        "assign", "drop", "self_assign", "validate"]


def test_an_action_outside_the_queue_is_refused_there(client, desk):
    validated = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    client.post("/admin/queue/to-validate/action/", data={
        "csrf_token": csrf_token(client, "/admin/"), "action": "self_assign", "rowid": [validated.id],
        "url": "/admin/queue/to-validate/"})
    assert Claim.get_by_id(validated.id).status == ClaimStatus.VALIDATED  # the grid of every claim would have done it
    bulk_post(client, "self_assign", rowid=[validated.id])
    assert Claim.get_by_id(validated.id).status == ClaimStatus.ASSIGNED


def test_one_bulk_menu_on_the_claims_grids_flask_admins_elsewhere(client, desk):
    login(client, desk.users[Role.ADMIN])
    claims_page = client.get("/admin/claim/").get_data(as_text=True)
    assert 'id="bulk-panel"' in claims_page and "Con la selezione" not in claims_page
    assert "Con la selezione" in client.get("/admin/outbox/").get_data(as_text=True)  # its own "send again"


def test_the_confirmation_names_what_will_happen(client, desk):
    login(client, desk.users[Role.ASP_MANAGER])
    page = client.get("/admin/claim/").get_data(as_text=True)
    assert 'data-confirm-many="Affidare {count} pratiche a {lawyer}?"' in page
    assert 'data-confirm-one="Affidare la pratica scelta a {lawyer}?"' in page
    assert re.search(r'<option value="assign"[^>]*data-needs="lawyer"', page)


@pytest.mark.parametrize("scope", ["selected", "filtered"])
def test_entrusting_without_a_lawyer_is_refused_before_it_starts(client, desk, app, monkeypatch, scope):
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(3)]
    monkeypatch.setitem(app.config, "BULK_INLINE_LIMIT", 1)  # it would otherwise run as a job in the worker
    login(client, desk.users[Role.ASP_MANAGER])
    extra = {"rowid": [c.id for c in claims]} if scope == "selected" else {"bulk_scope": "filtered",
                                                                            "bulk_query": "flt0_0=validated"}
    response = bulk_post(client, "assign", **extra)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Scegli il legale a cui affidare le pratiche." in page
    assert BulkJob.select().count() == 0 and {Claim.get_by_id(c.id).status for c in claims} == {ClaimStatus.VALIDATED}


def test_skipped_claims_are_grouped_by_reason_with_a_count(app):
    from flask import get_flashed_messages

    from admin_views.formatters import flash_bulk_result
    result = BulkResult(succeeded=["2026/000001"],
                        skipped=[(f"2026/{n:06d}", "stato «Ricevuta»") for n in range(2, 390)] + [("2026/000999", "non visibile")])
    with app.test_request_context():
        flash_bulk_result("Affida", result)
        [_, warning] = get_flashed_messages()
    assert warning.startswith("389 pratiche saltate: 388 × stato «Ricevuta» (2026/000002, 2026/000003")
    assert "e altre 383" in warning and "1 × non visibile (2026/000999)" in warning and len(warning) < 400


@pytest.mark.browser
def test_a_bulk_entrust_without_a_lawyer_is_stopped_in_the_browser(desk, live_server):
    from playwright.sync_api import sync_playwright
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(2)]
    from models import db
    db.close()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="it-IT", viewport={"width": 1300, "height": 900}).new_page()
        log_in(page, live_server, desk.users[Role.ASP_MANAGER])
        page.goto(f"{live_server}/admin/queue/to-assign/")
        page.select_option("#bulk-action", "assign")
        page.check(f"input.action-checkbox[value='{claims[0].id}']")
        said, posted = [], []
        page.on("dialog", lambda dialog: (said.append(dialog.message), dialog.dismiss()))
        page.on("request", lambda request: posted.append(request.url) if request.method == "POST" else None)
        page.click("#bulk-selected")
        page.wait_for_timeout(300)
        assert said == ["Scegli il legale a cui affidare le pratiche."] and posted == []
        page.select_option("#bulk-lawyer", str(desk.lawyer.id))
        page.click("#bulk-selected")
        page.wait_for_timeout(300)
        assert said[-1] == f"Affidare la pratica scelta a {desk.lawyer.name}?" and posted == []  # dismissed: nothing sent
        OUTPUT_DIR.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT_DIR / "bulk-entrust-checks-first.png"))
        browser.close()
    assert {Claim.get_by_id(c.id).status for c in claims} == {ClaimStatus.VALIDATED}


def test_each_group_of_skipped_claims_links_to_its_list(client, desk):
    ready = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(2)]
    received = [claim_in(desk, ClaimStatus.RECEIVED) for _ in range(3)]
    login(client, desk.users[Role.ASP_MANAGER])
    response = bulk_post(client, "self_assign", rowid=[c.id for c in ready + received])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 pratiche saltate: 3 ×" in page
    link = re.search(r'<a href="([^"]+)" class="alert-link">apri l&#39;elenco</a>', page).group(1)
    listed = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert all(c.number in listed for c in received) and not any(c.number in listed for c in ready)
