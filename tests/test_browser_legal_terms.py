"""A lawyer records two demands and the insurer's refusal, and reads the right dates on the claim page."""
from __future__ import annotations

import datetime as dt

import pytest

from models import Claim, ClaimStatus, QueueLimit, Role
from workflows import engine

from .conftest import OUTPUT_DIR
from .test_browser import live_server, log_in, page  # noqa: F401 - the fixtures and the login
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures and builders

pytestmark = pytest.mark.browser


def record(page, event: str, label: str, **values):
    page.get_by_role("button", name=label, exact=True).click()
    page.locator(f"#act-{event}.show:not(.collapsing)").wait_for()  # opened, not still unfolding
    for name, value in values.items():
        field = page.locator(f"#{event}-{name}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.locator(f"#act-{event} h3").click()  # away from the fields: the date picker closes
    with page.expect_navigation():
        page.get_by_role("button", name=f"Conferma: {label}").click()
    page.get_by_text(f"{label} eseguita").wait_for()


def test_a_lawyer_records_two_demands_and_a_refusal_and_reads_the_terms(live_server, page, desk):  # noqa: F811
    QueueLimit.delete().execute()
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    Claim.update(accident_date=dt.date(2023, 6, 10)).where(Claim.id == claim.id).execute()
    lawyer = desk.users[Role.LAWYER]
    # the claim letter reached the insurer on 05/11/2024: the first demand of the chain
    claim = engine.apply("file_claim", Claim.get_by_id(claim.id), lawyer, filed_on="05/11/2024")

    log_in(page, live_server, lawyer, desk.f.PASSWORD)
    page.goto(f"{live_server}/admin/claim/details/?id={claim.id}", wait_until="networkidle")
    record(page, "interrupt_prescription", "Registra interruzione della prescrizione",
           sent_on="29/08/2025", received_on="01/09/2025", means="pec")
    record(page, "interrupt_prescription", "Registra interruzione della prescrizione",
           sent_on="27/11/2026", means="raccomandata")
    record(page, "refuse_offer", "Registra diniego motivato", refused_on="20/12/2024",
           reason="Responsabilità del proprio assicurato contestata")

    card = page.locator("#deadlines")
    prescription = card.locator("li[data-kind='prescription']").inner_text()
    # 05/11/2024, then 01/09/2025 in time: the right lives until 01/09/2027; the raccomandata of
    # 27/11/2026 waits for its return card
    assert "01/09/2027" in prescription and "in attesa di ricevuta" in prescription
    assert "prescritto" not in prescription.lower()
    assert card.locator("li.demand").filter(has_text="in attesa di ricevuta").count() == 1
    assert card.locator("li[data-kind='offer']").count() == 0  # the refusal met the offer term
    suit = card.locator("li[data-kind='suit']")
    assert "già possibile" in suit.inner_text() and suit.locator(".badge-danger").count() == 0
    assert page.get_by_text("Responsabilità del proprio assicurato contestata").count() >= 1
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "lawyer-demands-and-refusal.png"), full_page=True)
    assert (OUTPUT_DIR / "lawyer-demands-and-refusal.png").stat().st_size > 10_000
