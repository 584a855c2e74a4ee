"""The date pickers in a real browser: Italian months, Monday first, dd/mm/yyyy written back."""
from __future__ import annotations

import datetime as dt

import pytest

from models import Claim, Role

from .conftest import OUTPUT_DIR
from .test_browser import live_server, log_in, page  # noqa: F401 - the fixtures and the login

pytestmark = pytest.mark.browser

ITALIAN_MONTHS = ["gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"]


def _calendar(page):
    picker = page.locator(".daterangepicker:visible").last
    picker.wait_for()
    months = picker.locator("select.monthselect").first.locator("option").all_inner_texts()
    weekdays = picker.locator("thead").first.locator("tr").nth(1).locator("th").all_inner_texts()
    return picker, months, weekdays


def test_the_date_pickers_speak_italian_and_start_on_monday(live_server, page, f):  # noqa: F811
    centre, repairer = f.centre(), f.repairer()
    lawyer = f.lawyer(centre)
    claim = f.claim(repairer, centre, lawyer=lawyer, accident_date=dt.date(2026, 10, 12))
    Claim.update(status="filed").where(Claim.id == claim.id).execute()
    log_in(page, live_server, f.user(Role.LAWYER, lawyer=lawyer, login="legale.date"), f.PASSWORD)

    # the claim form's date field
    page.goto(f"{live_server}/admin/claim/edit/?id={claim.id}")
    field = page.locator("input[name=accident_date]")
    assert field.input_value() == "12/10/2026"
    field.click()
    picker, months, weekdays = _calendar(page)
    assert [m.strip() for m in months] == ITALIAN_MONTHS
    assert [d.strip() for d in weekdays] == ["lu", "ma", "me", "gi", "ve", "sa", "do"]
    page.screenshot(path=str(OUTPUT_DIR / "date-picker-claim-form.png"), full_page=True)
    picker.locator("td.available:not(.off)", has_text="20").first.click()
    assert field.input_value() == "20/10/2026"

    # the workflow form on the claim page: a text input with the same picker
    page.goto(f"{live_server}/admin/claim/details/?id={claim.id}")
    page.get_by_role("button", name="Registra offerta", exact=True).click()
    on_date = page.locator("#record_offer-on_date")
    assert on_date.get_attribute("type") == "text"
    on_date.fill("")
    on_date.click()
    _picker, months, weekdays = _calendar(page)
    assert [m.strip() for m in months] == ITALIAN_MONTHS and weekdays[0].strip() == "lu"
    page.screenshot(path=str(OUTPUT_DIR / "date-picker-claim-page.png"), full_page=True)


def test_the_date_range_filter_is_italian_in_its_box_its_calendar_and_its_buttons(live_server, page, f):  # noqa: F811
    centre, repairer = f.centre(), f.repairer()
    inside, outside = f.claim(repairer, centre), f.claim(repairer, centre)
    Claim.update(accident_date=dt.date(2026, 10, 12)).where(Claim.id == inside.id).execute()
    Claim.update(accident_date=dt.date(2026, 9, 30)).where(Claim.id == outside.id).execute()
    log_in(page, live_server, f.user(Role.ADMIN, login="admin.filtri"), f.PASSWORD)

    page.goto(f"{live_server}/admin/claim/", wait_until="networkidle")
    page.get_by_role("link", name="Aggiungi filtro").click()
    page.locator("a.filter", has_text="Data sinistro").click()
    box = page.locator("input.filter-val[data-gessin-picker]").last
    assert box.get_attribute("placeholder") == "gg/mm/aaaa - gg/mm/aaaa"
    box.click()
    picker, _months, weekdays = _calendar(page)
    shown = {m.strip() for m in picker.locator("select.monthselect option").all_inner_texts()}
    assert shown and shown <= set(ITALIAN_MONTHS) and weekdays[0].strip() == "lu"  # a range limits its months
    assert picker.locator("button.applyBtn").inner_text().strip() == "Applica"
    assert picker.locator("button.cancelBtn").inner_text().strip() == "Annulla"
    page.screenshot(path=str(OUTPUT_DIR / "date-range-filter.png"), full_page=True)
    picker.locator("button.cancelBtn").click()

    box.fill("01/10/2026 - 31/10/2026")
    page.locator("#filter_form button[type=submit]").click()
    page.wait_for_url("**flt*")
    rows = page.locator("table.model-list tbody").inner_text()
    assert inside.number in rows and outside.number not in rows
    assert page.locator("input.filter-val[data-gessin-picker]").last.input_value() == "01/10/2026 - 31/10/2026"

    # a link saved with the ISO dates of before: the box shows them the Italian way
    page.goto(page.url.split("?")[0] + "?" + page.url.split("?")[1].split("=")[0] + "=2026-09-01+to+2026-09-30",
              wait_until="networkidle")
    assert page.locator("input.filter-val[data-gessin-picker]").last.input_value() == "01/09/2026 - 30/09/2026"
    rows = page.locator("table.model-list tbody").inner_text()
    assert outside.number in rows and inside.number not in rows
