"""The call centre opens "Scadute" from the menu, in a real headless Chromium (today fixed at 10/03/2026)."""
from __future__ import annotations

import pytest

from .conftest import OUTPUT_DIR
from .test_browser import CSP_WATCH, live_server, log_in, page  # noqa: F401 - fixtures
from .test_queues import board  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

CONTRAST = """el => {
  function luminance(rgb) {
    var c = rgb.match(/\\d+/g).slice(0, 3).map(Number).map(function (v) {
      v = v / 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  var style = getComputedStyle(el), a = luminance(style.color), b = luminance(style.backgroundColor);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_the_call_centre_opens_the_overdue_queue_from_the_menu(live_server, page, board):
    c = board.claims
    violations = []
    page.expose_function("reportViolation", lambda text: violations.append(text))
    page.add_init_script(CSP_WATCH)
    log_in(page, live_server, board.users.admin)

    page.get_by_role("link", name="Code di lavoro").click()
    item = page.locator("a.dropdown-item", has_text="Scadute")
    count = item.locator(".menu-count")
    assert count.inner_text() == "2" and "badge-danger" in count.get_attribute("class")
    assert page.locator("a.dropdown-item", has_text="In scadenza").locator(".menu-count").inner_text() == "3"
    assert page.locator("a.dropdown-item", has_text="Da validare").locator(".menu-count").inner_text() == "2"
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "call-centre-queues-menu.png"))
    item.click()
    page.wait_for_url("**/admin/queue/overdue/**")

    rows = page.locator("table.model-list tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator(".claim-number").inner_text() == c.beta_overdue.number  # 05/03 before 07/03
    first = rows.nth(0)
    assert first.locator("td.col-next_due_on").inner_text().split()[0] == "05/03/2026"
    assert "Offerta della compagnia" in first.locator("td.col-next_due_on").inner_text()
    assert first.locator("td.col-days_left").inner_text().strip() == "scaduta da 5 giorni"
    badge = first.locator("td.col-level .badge")
    assert badge.inner_text() == "scaduta" and "badge-danger" in badge.get_attribute("class")
    assert badge.evaluate(CONTRAST) >= 4.5
    assert page.locator(".menu-count[data-queue='overdue']").first.inner_text() == "2"  # drawn again, same count

    # the claims grid's in-time badge, Bootstrap's green darkened so that its white text reads
    page.goto(f"{live_server}/admin/claim/")
    for level in ("in_time", "due_soon", "overdue"):
        assert page.locator(f".badge.level-{level}").first.evaluate(CONTRAST) >= 4.5, level
    page.goto(f"{live_server}/admin/queue/overdue/")
    page.screenshot(path=str(OUTPUT_DIR / "call-centre-overdue-queue.png"), full_page=True)
    assert (OUTPUT_DIR / "call-centre-overdue-queue.png").stat().st_size > 10_000
    assert violations == []
