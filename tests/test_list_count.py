"""A long list is counted only up to `LIST_COUNT_CAP` (admin_views/base.py `list_count`):
the page says it is longer, pages with a plain pager, and "apply to all" asks the exact
count (`/count/`, the user's own claims only) before its confirmation."""
from __future__ import annotations

import re

import pytest

from models import Claim, ClaimStatus, Role

from .conftest import QueryCounter, login
from .test_browser import live_server, log_in, page  # noqa: F401 - fixtures
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures

S = ClaimStatus


@pytest.fixture
def long_list(desk, app, monkeypatch):
    """8 claims of the desk's centre (3 validated), 2 of another centre; the cap at 5."""
    monkeypatch.setitem(app.config, "LIST_COUNT_CAP", 5)
    mine = [desk.f.claim(desk.repairer, desk.centre) for _ in range(5)]
    mine += [claim_in(desk, S.VALIDATED) for _ in range(3)]
    other = desk.f.centre(name="Centro Beta")
    theirs = [desk.f.claim(desk.f.repairer(), other) for _ in range(2)]
    return mine, theirs


def grid(client, url="/admin/claim/"):
    with QueryCounter() as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True), queries.statements


def test_a_list_longer_than_the_cap_is_not_counted_further(client, desk, long_list):
    login(client, desk.users[Role.ADMIN])
    html, statements = grid(client, "/admin/claim/?page_size=20")
    counts = [s for s in statements if "COUNT(" in s and '"claim"' in s and "GROUP BY" not in s and "SUM(" not in s]
    assert len(counts) == 1 and re.search(r'LIMIT (\?|%s)\) AS "_wrapped"', counts[0]), counts
    assert re.search(r"\[6, 1\]\)$", counts[0]), counts  # read up to the cap and one more, no further
    assert 'id="list-count-over"' in html and "Più di 5 pratiche" in html
    assert "Applica a tutte le pratiche filtrate (oltre 5)" in html
    assert html.count('class="claim-number"') == 10  # every row is still listed


def test_a_list_within_the_cap_is_counted_exactly(client, desk, long_list):
    login(client, desk.users[Role.ADMIN])
    html, _statements = grid(client, f"/admin/claim/?flt0_0={S.VALIDATED}")
    assert "Applica a tutte le 3 pratiche filtrate" in html and 'id="list-count-over"' not in html


def test_the_cap_pages_with_a_plain_pager(client, desk, long_list):
    for _ in range(12):
        desk.f.claim(desk.repairer, desk.centre)
    login(client, desk.users[Role.ADMIN])
    first, _ = grid(client, "/admin/claim/")
    second, _ = grid(client, "/admin/claim/?page=1")
    numbers = [re.findall(r'class="claim-number" href="[^"]+">([^<]+)<', html) for html in (first, second)]
    assert [len(n) for n in numbers] == [20, 2] and len(set(numbers[0] + numbers[1])) == 22
    assert '<a class="page-link" href="/admin/claim/?page=1&amp;page_size=20">&gt;</a>' in first  # next, whatever the count
    assert "page=2" not in first + second


def test_the_exact_count_of_the_filtered_list_is_the_users_own(client, app, desk, long_list):
    mine, theirs = long_list
    expected = {Role.ADMIN: (10, 3, 1), Role.ASP_MANAGER: (8, 3, 0), Role.LAWYER: (0, 0, 0), Role.REPAIRER: (8, 3, 0)}
    for role, (everything, validated, other) in expected.items():
        user = desk.users[role]
        client = app.test_client()
        login(client, user)
        assert client.get("/admin/claim/count/").get_json() == {"count": everything}, role
        assert client.get(f"/admin/claim/count/?flt0_0={S.VALIDATED}").get_json() == {"count": validated}, role
        assert client.get("/admin/queue/to-assign/count/").get_json() == {"count": validated}, role
        assert client.get(f"/admin/claim/count/?search={theirs[0].number}").get_json() == {"count": other}, role
    assert app.test_client().get("/admin/claim/count/").status_code in (302, 401, 403)  # a visitor


@pytest.mark.browser
def test_apply_to_all_of_a_long_list_confirms_the_exact_count(desk, long_list, live_server, page):
    from models import db
    db.close()
    log_in(page, live_server, desk.users[Role.ASP_MANAGER])
    page.goto(f"{live_server}/admin/claim/")
    assert "oltre 5" in page.inner_text("#bulk-filtered")
    page.select_option("#bulk-action", "validate")
    said = []
    page.on("dialog", lambda dialog: (said.append(dialog.message), dialog.dismiss()))
    page.click("#bulk-filtered")
    page.wait_for_timeout(500)
    assert said == ["Validare 8 pratiche?"]  # counted on asking, the manager's own
    assert Claim.select().where(Claim.status == S.VALIDATED).count() == 3  # dismissed: nothing done


def test_apply_to_all_counts_once(client, desk, long_list):
    login(client, desk.users[Role.ASP_MANAGER])
    with QueryCounter() as queries:
        assert client.get(f"/admin/claim/count/?flt0_0={S.VALIDATED}").get_json() == {"count": 3}
    assert len([s for s in queries.statements if "COUNT(" in s]) == 1, queries.statements
