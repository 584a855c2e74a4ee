"""The list page's header row and pager drawn in one call each (`admin_views/list_chrome.py`):
the same markup and links as Flask-Admin's own `list.html` draws, counted or not, sorted or
not, on the first, a middle and the last page; and the links built with a few `url_for`."""
from __future__ import annotations

import re

import flask
import pytest

from models import ClaimStatus, Role

from .conftest import login
from .test_browser import live_server, log_in, page  # noqa: F401 - fixtures
from .test_workflows import desk  # noqa: F401 - fixture

S = ClaimStatus
FLASK_ADMIN_LIST = "admin/model/list.html"  # Flask-Admin's own list page, which the grid's template extends


def tidy(html: str) -> str:
    """Markup without the template's layout whitespace around tags, and with text trimmed."""
    return re.sub(r"\s*(<[^>]+>)\s*", r"\1", re.sub(r"\s+", " ", html)).strip()


def part(html: str, start: str, end: str) -> str:
    found = re.search(re.escape(start) + r".*?" + re.escape(end), html, re.S)
    assert found, f"{start} not on the page"
    return tidy(found.group(0))


def both(client, app, monkeypatch, url: str) -> tuple[str, str]:
    """The page at `url` as the grid draws it, then as Flask-Admin's list.html draws it."""
    ours = client.get(url)
    assert ours.status_code == 200
    view = app.extensions["gessin_admin"].views_by_endpoint["claim"]
    with monkeypatch.context() as patch:
        patch.setattr(view, "list_template", FLASK_ADMIN_LIST)
        theirs = client.get(url)
    assert theirs.status_code == 200
    return ours.get_data(as_text=True), theirs.get_data(as_text=True)


@pytest.fixture
def pages_of_claims(desk, client):
    """45 claims, 30 of them received: three pages of 20 on the unfiltered grid."""
    for index in range(45):
        claim = desk.f.claim(desk.repairer, desk.centre)
        if index % 3 == 0:
            claim.status = S.VALIDATED
            claim.save()
    login(client, desk.users[Role.ADMIN])
    return desk


@pytest.mark.parametrize("query", [
    "",                                      # default order, first page
    "?page=1&sort=1&desc=1",                 # sorted by received date, newest first, a middle page
    "?page=2&sort=1",                        # sorted the other way, the last page
    "?flt0_0=received&sort=0&page=1",        # filtered, sorted by number
    "?search=nothing-like-this",             # nothing found: one page, no pager
])
def test_the_header_and_pager_are_flask_admins(pages_of_claims, client, app, monkeypatch, query):
    ours, theirs = both(client, app, monkeypatch, "/admin/claim/" + query)
    assert part(ours, "<thead>", "</thead>") == part(theirs, "<thead>", "</thead>")
    assert ours.count('class="pagination"') == theirs.count('class="pagination"')
    if 'class="pagination"' in theirs:
        assert part(ours, '<ul class="pagination">', "</ul>") == part(theirs, '<ul class="pagination">', "</ul>")
    header = part(ours, "<thead>", "</thead>")
    assert header.count('title="Ordina per ') >= 8
    assert ("chevron" in header) == ("sort=" in query)  # the sorted column's arrow


def test_the_plain_pager_of_an_uncounted_list_is_flask_admins(pages_of_claims, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LIST_COUNT_CAP", 10)  # longer lists are not counted: previous/next only
    for query in ("", "?page=1", "?page=2&sort=1&desc=1"):
        ours, theirs = both(client, app, monkeypatch, "/admin/claim/" + query)
        assert part(ours, '<ul class="pagination">', "</ul>") == part(theirs, '<ul class="pagination">', "</ul>")
        assert ours.count("page-link") == 2


def test_the_links_take_a_few_url_fors_not_one_each(pages_of_claims, client, app, monkeypatch):
    built = []
    original = flask.Flask.url_for

    def counting(self, endpoint, **values):
        built.append(endpoint)
        return original(self, endpoint, **values)
    client.get("/admin/claim/?page=1")  # warm: the menu and choices kept
    monkeypatch.setattr(flask.Flask, "url_for", counting)
    html = client.get("/admin/claim/?page=1").get_data(as_text=True)
    sort_links = len(re.findall(r'<a href="[^"]*sort=\d+', part(html, "<thead>", "</thead>")))
    page_links = len(re.findall(r'class="page-link" href="/admin/claim/', html))
    assert sort_links >= 8 and page_links >= 4
    # the sort links from one call (and one for the sorted column), the pages' from two; then the
    # page-size menu's three and the reset link: 8, where one call per link made 16 or more
    assert built.count(".index_view") <= 8, built


def test_static_files_addresses_are_built_once(pages_of_claims, client, monkeypatch):
    built = []
    original = flask.Flask.url_for

    def counting(self, endpoint, **values):
        built.append(endpoint)
        return original(self, endpoint, **values)
    for url in ("/admin/claim/", "/admin/"):
        first = client.get(url).get_data(as_text=True)
        monkeypatch.setattr(flask.Flask, "url_for", counting)
        again = client.get(url).get_data(as_text=True)
        monkeypatch.setattr(flask.Flask, "url_for", original)
        static = re.findall(r'(?:href|src)="(/admin/static/[^"]+)"', again)
        assert len(static) >= 5 and static == re.findall(r'(?:href|src)="(/admin/static/[^"]+)"', first)
        assert "/admin/static/admin/js/actions.js?v=1.0.0" in again or url == "/admin/"
        assert "admin.static" not in built, (url, built)


@pytest.mark.browser
def test_a_clerk_sorts_by_a_column_and_pages_through_the_grid(live_server, page, desk):
    """In a real browser: the drawn header sorts, its arrow turns, the pager moves on and back."""
    import datetime as dt

    from models import Claim
    numbers = []
    for index in range(25):
        claim = desk.f.claim(desk.repairer, desk.centre, customer_name=f"Cliente {index:02d}")
        Claim.update(received_at=dt.datetime(2026, 1, 1, 9) + dt.timedelta(days=index)).where(
            Claim.id == claim.id).execute()
        numbers.append(claim.number)  # oldest first
    log_in(page, live_server, desk.users[Role.ADMIN])
    page.goto(f"{live_server}/admin/claim/")

    def shown() -> list[str]:
        return page.locator("table.model-list tbody a.claim-number").all_inner_texts()

    page.locator("thead th.col-received_at a").click()
    page.wait_for_url("**sort=1**")
    assert shown() == numbers[:20]  # oldest first
    assert page.locator("thead th.col-received_at .fa-chevron-up").count() == 1
    page.locator("thead th.col-received_at a").click()  # the sorted column's link turns the order round
    page.wait_for_url("**desc=1**")
    assert shown() == numbers[::-1][:20]
    page.locator("ul.pagination a.page-link", has_text="2").click()
    page.wait_for_url("**page=1**")
    assert shown() == numbers[::-1][20:]
    assert page.locator("ul.pagination li.active").inner_text().strip() == "2"
    page.locator("ul.pagination a.page-link", has_text="<").click()
    page.wait_for_url(lambda url: "page=" not in url)
    assert shown() == numbers[::-1][:20] and "desc=1" in page.url  # the order kept
