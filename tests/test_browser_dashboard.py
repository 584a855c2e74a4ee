"""The Cruscotto in a real headless Chromium: the charts drawn from the app's own JSON by the
vendored Chart.js under the strict CSP, for the call centre and for an ASP manager."""
from __future__ import annotations

import datetime as dt

import pytest

from models import ClaimStatus as S
from models import DeadlineReminder, Role
from workflows import clock

from .conftest import OUTPUT_DIR
from .test_browser import live_server, log_in, page  # noqa: F401 (fixtures)
from .test_dashboard import put

pytestmark = pytest.mark.browser
D = dt.timedelta

DRAWN = """() => [...document.querySelectorAll('canvas[data-chart]')].map(canvas => {
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { painted++; } }
  return [canvas.dataset.chart, !!window.Chart.getChart(canvas), painted, canvas.width];
})"""


@pytest.fixture
def world(f):
    today = clock.today()
    alfa, beta = f.centre(name="Centro Alfa"), f.centre(name="Centro Beta")
    law_a, law_b = f.lawyer(alfa, name="Avv. Alfa"), f.lawyer(beta, name="Avv. Beta")
    rep_a, rep_b = f.repairer(name="Carrozzeria Alfa"), f.repairer(name="Carrozzeria Beta")
    claims = []
    for i in range(6):
        claim = put(f.claim(rep_a, alfa, customer_name=f"Cliente Alfa {i}"), (S.RECEIVED, S.ASSIGNED, S.FILED)[i % 3],
                    i * 3, today + D(days=i - 2), today + D(days=i - 4), "queue" if i % 3 != 2 else "offer",
                    law_a if i % 3 else None)
        claims.append(claim)
    theirs = put(f.claim(rep_b, beta, customer_name="Cliente Beta"), S.FILED, 12, today - D(days=3),
                 today - D(days=9), "offer", law_b)
    for weeks, claim in ((0, claims[0]), (2, claims[1]), (2, theirs), (5, theirs)):
        DeadlineReminder.create(claim=claim, kind="queue", due_on=today - D(weeks=weeks, days=1), level="overdue",
                                recipient="callcentre", found_on=today - D(weeks=weeks))
    return {"claims": claims, "theirs": theirs,
            "admin": f.user(Role.ADMIN, login="callcentre.cruscotto"),
            "manager": f.user(Role.ASP_MANAGER, asp_centre=alfa, login="manager.alfa.cruscotto")}


def open_dashboard(page, live_server, user, shot):
    errors = []  # script errors, CSP refusals, and any request of ours that failed (the browser's favicon aside)
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    log_in(page, live_server, user)
    page.goto(f"{live_server}/admin/")
    page.wait_for_selector("#dashboard[data-charts]")
    drawn = page.evaluate(DRAWN)
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / shot), full_page=True)
    assert (OUTPUT_DIR / shot).stat().st_size > 20_000
    return drawn, errors


def test_the_call_centre_sees_its_charts_drawn(live_server, page, world):
    drawn, errors = open_dashboard(page, live_server, world["admin"], "dashboard-call-centre.png")
    assert errors == []  # no CSP refusal, no script error
    assert page.get_attribute("#dashboard", "data-charts") == "centres lawyers states trend"
    assert [(kind, chart) for kind, chart, _, _ in drawn] == [
        ("states", True), ("trend", True), ("centres", True), ("lawyers", True)]
    assert all(painted > 500 and width > 100 for _, _, painted, width in drawn), drawn
    rows = page.locator("#by-centres tbody tr")
    assert rows.count() == 2 and "Centro Beta" in rows.nth(1).inner_text()
    assert page.locator("#todo tbody tr").count() == 6  # overdue or due soon: 5 of Alfa's, Beta's


def test_an_asp_manager_sees_only_its_centre_on_the_dashboard(live_server, page, world):
    drawn, errors = open_dashboard(page, live_server, world["manager"], "dashboard-asp-manager.png")
    assert errors == []
    assert [(kind, chart) for kind, chart, _, _ in drawn] == [
        ("states", True), ("trend", True), ("centres", True), ("lawyers", True)]
    assert all(painted > 500 for _, _, painted, _ in drawn), drawn
    body = page.content()
    assert "Centro Beta" not in body and "Avv. Beta" not in body and world["theirs"].number not in body
    assert page.locator("#by-centres tbody tr").count() == 1
    labels = page.evaluate("() => window.gessinDashboardCharts.centres.data.labels")
    assert labels == ["Centro Alfa"]
    trend = page.evaluate("() => window.gessinDashboardCharts.trend.data.datasets[0].data")
    assert sum(trend) == 2 and trend[-1] == 1  # its two claims; Beta's reminders are not its
    assert page.locator("#todo tbody tr").count() == 5
    page.locator('#status-counts a[data-status="received"]').click()
    page.wait_for_url("**flt0_0=received**")
    assert page.locator("table.model-list tbody tr").count() == 2
