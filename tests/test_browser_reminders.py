"""The call centre finds Sistema > Promemoria scadenze in the menu and reads who was told, in a real browser."""
from __future__ import annotations

import pytest

from models import ClaimStatus, Role
from workflows import reminders

from .conftest import OUTPUT_DIR
from .test_browser import live_server, log_in, page  # noqa: F401 - the fixtures and the login
from .test_reminder_digests import at
from .test_reminders import DAY, D, deadline
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures and builders

pytestmark = pytest.mark.browser


def test_the_call_centre_opens_the_reminders_from_the_system_menu(live_server, page, desk):
    late = deadline(claim_in(desk, ClaimStatus.FILED), kind="offer")
    soon = deadline(claim_in(desk, ClaimStatus.VALIDATED), due_on=D + 2 * DAY, warn_on=D - DAY)
    reminders.sweep(today=D + DAY)
    reminders.send_digests(D + DAY, now=at(D + DAY, 8))
    log_in(page, live_server, desk.users[Role.ADMIN], desk.f.PASSWORD)
    page.get_by_role("link", name="Sistema").first.click()
    page.get_by_role("link", name="Promemoria scadenze").click()
    page.wait_for_url("**/admin/reminders/**")
    table = page.locator("table.model-list")
    assert table.locator("tbody tr").count() == 3  # the lawyer's breach, the call centre's, the centre's warning
    text = table.inner_text()
    assert late.number in text and soon.number in text
    assert "Offerta della compagnia" in text and "scaduta" in text and "in scadenza" in text
    assert f"Legale: {desk.lawyer.name}" in text and "Call center" in text and "Centro ASP: Centro Alfa" in text
    assert page.locator("table.model-list .badge-danger").count() == 2
    table.get_by_role("link", name=late.number).first.click()
    page.wait_for_url(f"**/admin/claim/details/?id={late.id}")
    page.go_back()
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "deadline-reminders-grid.png"), full_page=True)
    assert (OUTPUT_DIR / "deadline-reminders-grid.png").stat().st_size > 10_000
