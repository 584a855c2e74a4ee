"""A clerk on a phone (390 px wide): a queue's claims as cards, the claim page's actions first."""
from __future__ import annotations

import pytest

from models import Role, db

from .conftest import OUTPUT_DIR
from .test_browser import CHROMIUM, CHROMIUM_ARGS, live_server, log_in  # noqa: F401 - fixture
from .test_workflows import desk, new_claim  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


@pytest.fixture
def phone():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="it-IT", timezone_id="Europe/Rome", viewport={"width": 390, "height": 844},
                                      is_mobile=True, has_touch=True)
        yield context.new_page()
        browser.close()


def test_a_queue_on_a_phone_shows_each_claim_as_a_card(desk, live_server, phone):
    claims = [new_claim(desk) for _ in range(3)]
    db.close()
    log_in(phone, live_server, desk.users[Role.ASP_MANAGER])
    phone.goto(f"{live_server}/admin/queue/to-validate/")
    assert not phone.locator("table.model-list thead").is_visible()
    row = phone.locator("table.model-list tbody tr", has_text=claims[0].number)
    for column in ("number", "status", "vehicle_a_plate", "status_since"):
        assert row.locator(f"td.col-{column}").is_visible(), column
    for column in ("repairer", "asp_centre", "insurer", "received_at"):
        assert not row.locator(f"td.col-{column}").is_visible(), column
    card = row.bounding_box()
    assert card["width"] <= 390 and phone.evaluate("document.documentElement.scrollWidth") <= 400  # no sideways scroll
    OUTPUT_DIR.mkdir(exist_ok=True)
    phone.screenshot(path=str(OUTPUT_DIR / "phone-queue.png"), full_page=True)


def test_the_claim_page_on_a_phone_puts_actions_and_what_is_missing_first(desk, live_server, phone):
    from workflows import engine
    claim = new_claim(desk, documents=("denuncia", "mandato"))
    engine.apply("mark_incomplete", claim, desk.users[Role.ASP_MANAGER], missing=["doc:documento_identita"])
    db.close()
    log_in(phone, live_server, desk.users[Role.ASP_MANAGER])
    phone.goto(f"{live_server}/admin/claim/details/?id={claim.id}")
    actions = phone.locator("#claim-side section").first.bounding_box()
    missing = phone.locator("#missing").bounding_box()
    data = phone.locator(".claim-section").first.bounding_box()
    assert actions["y"] < missing["y"] < data["y"]
    phone.screenshot(path=str(OUTPUT_DIR / "phone-claim-page.png"))

