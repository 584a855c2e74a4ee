"""A lawyer types an offer the Italian way in a real headless Chromium and sees it as typed,
on the claim page and in the grid's CSV export."""
from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from models import ClaimStatus, Payment, Role

from .conftest import OUTPUT_DIR
from .test_browser import live_server, log_in, page  # noqa: F401 - the fixtures and the login
from .test_workflows import claim_in, desk  # noqa: F401 - fixture

pytestmark = pytest.mark.browser


def test_a_lawyer_records_an_offer_of_1500_and_sees_it_on_the_claim_page(live_server, page, desk):  # noqa: F811
    claim = claim_in(desk, ClaimStatus.FILED)
    lawyer = desk.users[Role.LAWYER]

    log_in(page, live_server, lawyer, desk.f.PASSWORD)
    page.goto(f"{live_server}/admin/claim/details/?id={claim.id}", wait_until="networkidle")  # every script bound
    page.get_by_role("button", name="Registra offerta", exact=True).click()
    page.locator("#act-record_offer.show:not(.collapsing)").wait_for()  # opened, not still unfolding
    amount = page.locator("#record_offer-amount")
    assert amount.get_attribute("type") == "text" and amount.get_attribute("inputmode") == "decimal"
    amount.fill("1.500,00")
    with page.expect_navigation():
        page.get_by_role("button", name="Conferma: Registra offerta").click()
    page.get_by_text("Registra offerta eseguita").wait_for()  # the page after the redirect, not the form

    assert page.locator("text=€ 1.500,00").count() >= 1  # the payments card and the history note
    assert page.get_by_text("Offerta di € 1.500,00 del").count() >= 1
    assert Payment.get(Payment.claim == claim.id).amount == Decimal("1500.00")
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "lawyer-offer-1500.png"), full_page=True)
    assert (OUTPUT_DIR / "lawyer-offer-1500.png").stat().st_size > 10_000

    # the grid's "Esporta": the same offer in the CSV, as Italian Excel reads it
    page.goto(f"{live_server}/admin/claim/", wait_until="networkidle")
    with page.expect_download() as download:
        page.get_by_role("link", name="Esporta").click()
    text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    row = next(dict(zip(rows[0], r)) for r in rows[1:] if r[0] == claim.number)
    assert row["Ultima offerta"] == "1500,00"
