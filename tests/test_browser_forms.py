"""Journeys in a real Chromium: a refused form keeps what was typed and shows every error by its field."""
from __future__ import annotations

import pytest

from models import ClaimStatus, Repairer, Role

from .conftest import OUTPUT_DIR
from .test_browser import live_server, log_in, page  # noqa: F401 - the fixtures and the login
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures and builders

pytestmark = pytest.mark.browser


def _shot(page, name):
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / name), full_page=True)
    assert (OUTPUT_DIR / name).stat().st_size > 10_000


def test_a_refused_offer_keeps_what_the_lawyer_typed_and_says_why_by_each_field(live_server, page, desk):
    claim = claim_in(desk, ClaimStatus.FILED)
    log_in(page, live_server, desk.users[Role.LAWYER], desk.f.PASSWORD)
    page.goto(f"{live_server}/admin/claim/details/?id={claim.id}")
    page.locator('button[data-event="record_offer"]').click()
    form = page.locator("#act-record_offer")
    form.locator('[name="amount"]').fill("mille euro")
    form.locator('[name="on_date"]').fill("")
    form.locator('[name="note"]').fill("Offerta telefonica del perito")
    form.locator("h3").click()  # as a clerk would: a click beside the fields closes the date picker
    form.get_by_role("button", name="Conferma: Registra offerta").click()
    page.wait_for_load_state()

    form = page.locator("#act-record_offer")
    assert form.is_visible()  # open again, not folded away
    assert form.locator('[name="amount"]').input_value() == "mille euro"
    assert form.locator('[name="note"]').input_value() == "Offerta telefonica del perito"
    assert "is-invalid" in form.locator('[name="amount"]').get_attribute("class")
    assert "is-invalid" in form.locator('[name="on_date"]').get_attribute("class")
    feedback = form.locator(".invalid-feedback")
    assert feedback.count() == 2 and feedback.first.is_visible()
    assert feedback.nth(0).inner_text().startswith("«mille euro» non è un importo")
    assert "indica la data" in feedback.nth(1).inner_text()
    assert not page.locator("#act-record_payment").is_visible()  # the other actions stay folded
    _shot(page, "refused-offer-keeps-values.png")


def test_a_form_with_three_wrong_fields_shows_three_errors_at_once(live_server, page, desk):
    log_in(page, live_server, desk.users[Role.ADMIN], desk.f.PASSWORD)
    page.goto(f"{live_server}/admin/repairer/new/")  # no name, no partita IVA, no e-mail
    page.locator('[name="phone"]').fill("06 1234567")
    page.locator('form.admin-form [type="submit"]').first.click()
    page.wait_for_load_state()
    invalid = page.locator(".is-invalid")
    names = sorted(invalid.nth(i).get_attribute("name") for i in range(invalid.count()))
    assert names == ["email", "name", "vat_number"]
    assert page.locator(".invalid-feedback:visible").count() == 3
    assert page.locator('[name="phone"]').input_value() == "06 1234567"
    assert Repairer.select().count() == 1  # the desk's own, nothing new
    _shot(page, "three-errors-at-once.png")


def test_a_deadline_before_the_warning_is_said_by_its_field_in_italian(live_server, page, desk):
    log_in(page, live_server, desk.users[Role.ADMIN], desk.f.PASSWORD)
    page.goto(f"{live_server}/admin/queuelimit/new/")
    page.locator('select[name="status"]').select_option("received")
    page.locator('[name="warning_days"]').fill("10")
    page.locator('[name="breach_days"]').fill("5")
    page.locator('form.admin-form [type="submit"]').first.click()
    page.wait_for_load_state()
    body = page.content()
    assert "CHECK constraint" not in body and "check constraint" not in body
    assert "is-invalid" in page.locator('[name="breach_days"]').get_attribute("class")
    assert page.locator('[name="warning_days"]').input_value() == "10"
    assert "La scadenza non può venire prima del preavviso" in body
    _shot(page, "queue-limit-check-by-field.png")
