"""The claims grid's next-deadline columns, filters and sort; the deadline queues; the menu's counts.

Today is fixed at Tuesday 10/03/2026 (`board` in test_queues.py); every date below is worked
from it by hand.
"""
from __future__ import annotations

import re

import pytest

from admin_views.claims import ClaimView
from admin_views.deadline_columns import LevelFilter
from models import Claim, ClaimStatus
from workflows import queues

from .conftest import QueryCounter, csrf_token, login
from .test_queues import TODAY, board, with_deadline  # noqa: F401 - fixture and builder

MENU_COUNT = re.compile(r'data-queue="([a-z-]+)">([\d.]+)</span>')


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def row_of(html, claim) -> str:
    """The grid row of `claim` (its <tr>...</tr>)."""
    at = html.index(claim.number)
    return html[html.rindex("<tr", 0, at):html.index("</tr>", at)]


def cell(row, column) -> str:
    """What one column's cell of a grid row holds, spaces squeezed."""
    opening = f'<td class="col-{column}">'
    at = row.index(opening) + len(opening)
    return " ".join(row[at:row.index("</td>", at)].split())


def listed(html, *claims) -> list:
    """`claims` in the order the page lists them (those it does not list are left out)."""
    return [c for c in sorted(claims, key=lambda c: html.find(c.number)) if c.number in html]


def filter_number(kind, column=None) -> int:
    return next(i for i, flt in enumerate(ClaimView.column_filters)
                if isinstance(flt, kind) and (column is None or flt.column is column))


def sort_number(name) -> int:
    return ClaimView.column_list.index(name)


def menu_counts(html) -> dict[str, int]:
    return {slug: int(n.replace(".", "")) for slug, n in MENU_COUNT.findall(html)}


@pytest.fixture
def manager(client, board):
    login(client, board.users.manager)
    return board.claims


def test_the_grid_shows_each_claims_next_deadline_days_left_and_level(client, manager):
    c = manager
    html = page(client, "/admin/claim/")
    for column, label in (("next_due_on", "Prossima scadenza"), ("days_left", "Giorni rimasti"), ("level", "Livello")):
        header = html[html.index(f'class="column-header col-{column}"'):]
        assert label in header[:header.index("</th>")], label
    expected = {  # date, what falls due, days left, badge
        c.overdue: ("07/03/2026", "Offerta della compagnia", "scaduta da 3 giorni",
                    '<span class="badge badge-danger level-overdue">scaduta</span>'),
        c.due_today: ("10/03/2026", "Tempo di permanenza nello stato", "scade oggi",
                      '<span class="badge badge-warning level-due_soon">in scadenza</span>'),
        c.warned_today: ("13/03/2026", "Pagamento dopo la risposta all&#39;offerta", "3 giorni",
                         '<span class="badge badge-warning level-due_soon">in scadenza</span>'),
        c.later: ("20/03/2026", "Prescrizione del diritto", "10 giorni",
                  '<span class="badge badge-success level-in_time">in tempo</span>'),
        c.no_warning: ("11/03/2026", "Tempo di permanenza nello stato", "1 giorno",
                       '<span class="badge badge-success level-in_time">in tempo</span>'),
    }
    for claim, (date, kind, days, badge) in expected.items():
        row = row_of(html, claim)
        assert date in cell(row, "next_due_on") and kind in cell(row, "next_due_on"), claim.number
        assert f'title="{kind}"' in cell(row, "next_due_on")  # the kind in words, also as the date's title
        assert cell(row, "days_left") == days
        assert badge in cell(row, "level")
    empty = row_of(html, c.none)
    assert [cell(empty, name) for name in ("next_due_on", "days_left", "level")] == ["", "", ""]


def test_the_badge_colours_are_the_levels_and_readable(client, manager):
    from workflows import next_due
    assert next_due.LEVEL_BADGES == {"in_time": "success", "due_soon": "warning", "overdue": "danger"}
    html = page(client, "/admin/claim/")
    assert '<link rel="stylesheet" href="/static/css/gessin.css">' in html  # badge colours of 4.5:1 at least
    from .test_accessibility import contrast, css_colours
    colours = css_colours()
    assert all(contrast(*colours[f".badge-{name}"]) >= 4.5 for name in next_due.LEVEL_BADGES.values())


def test_the_level_filter_keeps_the_claims_at_that_level_today(client, manager):
    c, n = manager, filter_number(LevelFilter)
    everyone = vars(c).values()
    # the grid is every claim: the closed one with a past date is "scaduta" here too (the queue is open claims)
    assert set(listed(page(client, f"/admin/claim/?flt0_{n}=overdue"), *everyone)) == {c.closed, c.overdue}
    assert set(listed(page(client, f"/admin/claim/?flt0_{n}=due_soon"), *everyone)) == {c.due_today, c.warned_today}
    assert set(listed(page(client, f"/admin/claim/?flt0_{n}=in_time"), *everyone)) == {c.later, c.no_warning}
    refused = page(client, f"/admin/claim/?flt0_{n}=soon")  # not a level: the filter is refused, not guessed
    assert "non valido" in refused.lower() or "invalid" in refused.lower()


def test_the_date_range_and_kind_filters_read_the_stored_deadline(client, manager):
    from admin_views.filters import ChoiceFilter, DateBetweenFilter
    c = manager
    dates, kinds = filter_number(DateBetweenFilter, Claim.next_due_on), filter_number(ChoiceFilter, Claim.next_due_kind)
    everyone = vars(c).values()
    html = page(client, f"/admin/claim/?flt0_{dates}=11/03/2026+-+13/03/2026")  # both days included
    assert set(listed(html, *everyone)) == {c.no_warning, c.warned_today}
    html = page(client, f"/admin/claim/?flt0_{dates}=2026-03-01+to+2026-03-07")
    assert set(listed(html, *everyone)) == {c.overdue, c.closed}
    assert set(listed(page(client, f"/admin/claim/?flt0_{kinds}=queue"), *everyone)) == {c.due_today, c.no_warning}
    html = page(client, "/admin/claim/")
    assert "Livello scadenza" in html and "Tipo di scadenza" in html


@pytest.mark.parametrize("column", ["next_due_on", "days_left", "level"])
def test_sorting_on_the_deadline_puts_claims_without_one_last_both_ways(client, manager, column):
    c = manager
    nearest_first = [c.closed, c.overdue, c.due_today, c.no_warning, c.warned_today, c.later]
    everyone = vars(c).values()
    html = page(client, f"/admin/claim/?sort={sort_number(column)}")
    assert listed(html, *everyone) == nearest_first + [c.none]
    html = page(client, f"/admin/claim/?sort={sort_number(column)}&desc=1")
    assert listed(html, *everyone) == nearest_first[::-1] + [c.none]


def test_the_export_has_the_deadline_columns(client, manager):
    c = manager
    csv = page(client, "/admin/claim/export/csv/")
    header = csv.splitlines()[0]
    assert "Stato;Prossima scadenza;Giorni rimasti;Livello;" in header and "Tipo di scadenza" in header
    line = next(line for line in csv.splitlines() if c.overdue.number in line)
    assert ";07/03/2026;-3;scaduta;" in line and "Offerta della compagnia" in line
    line = next(line for line in csv.splitlines() if c.none.number in line)
    assert ";Ricevuta;;;;" in line


def test_the_deadline_queues_list_exactly_their_claims_nearest_first(client, board):
    c = board.claims
    everyone = vars(c).values()
    login(client, board.users.admin)
    assert listed(page(client, "/admin/queue/overdue/"), *everyone) == [c.beta_overdue, c.overdue]
    assert listed(page(client, "/admin/queue/due-soon/"), *everyone) == [c.due_today, c.beta_soon, c.warned_today]
    login(client, board.users.manager)  # the centre's own only
    assert listed(page(client, "/admin/queue/overdue/"), *everyone) == [c.overdue]
    assert listed(page(client, "/admin/queue/due-soon/"), *everyone) == [c.due_today, c.warned_today]
    html = page(client, "/admin/queue/overdue/?sort=0")  # a column's sort still applies
    assert c.overdue.number in html
    menu = html[:html.index("</nav>")]
    assert "In scadenza" in menu and "Scadute" in menu


def test_a_claim_outside_the_queue_still_opens_from_it_but_never_another_centres(client, board):
    c = board.claims
    login(client, board.users.manager)
    assert client.get(f"/admin/queue/overdue/details/?id={c.later.id}").status_code == 200
    assert client.get(f"/admin/queue/due-soon/details/?id={c.overdue.id}").status_code == 200
    assert client.get(f"/admin/queue/overdue/details/?id={c.beta_overdue.id}").status_code == 404
    assert c.beta_overdue.number not in page(client, "/admin/queue/overdue/export/csv/")


def test_the_menu_counts_each_queue_for_the_user(client, board):
    expected = {"to-validate": 2, "incomplete": 0, "to-assign": 1, "assigned": 1, "awaiting-offer": 2,
                "partially-reimbursed": 0, "closed": 1, "due-soon": 2, "overdue": 1}
    login(client, board.users.manager)
    html = page(client, "/admin/claim/")
    assert menu_counts(html) == expected
    assert re.search(r'Scadute <span class="badge badge-pill badge-danger menu-count" data-queue="overdue">1</span>',
                     html)
    assert 'badge-secondary menu-count" data-queue="incomplete">0<' in html
    login(client, board.users.repairer)
    assert menu_counts(page(client, "/admin/")) == {
        "to-validate": 1, "incomplete": 0, "to-assign": 0, "assigned": 1, "awaiting-offer": 2,
        "partially-reimbursed": 0, "closed": 1, "due-soon": 1, "overdue": 1}


def test_the_menu_counts_match_the_queues(client, board):
    for user in (board.users.admin, board.users.manager, board.users.repairer):
        login(client, user)
        counts = menu_counts(page(client, "/admin/claim/"))
        assert set(counts) == set(queues.BY_SLUG)
        for slug, count in counts.items():
            listing = page(client, f"/admin/queue/{slug}/?page_size=100")
            assert listing.count('class="claim-number"') == count, (user.login, slug)


def test_the_menu_counts_are_read_once_and_only_when_the_menu_is_drawn(client, manager):
    with QueryCounter() as queries:
        page(client, "/admin/queue/overdue/")
    grouped = [q for q in queries.statements if "GROUP BY" in q or "SUM(CASE" in q]
    assert len(grouped) == 2, grouped
    with QueryCounter() as queries:
        page(client, "/admin/claim/export/csv/")
    assert [q for q in queries.statements if "GROUP BY" in q or "SUM(CASE" in q] == []


def test_the_menu_counts_are_kept_a_while_but_not_past_the_users_own_change(client, manager, app, monkeypatch):
    monkeypatch.setitem(app.config, "MENU_COUNTS_SECONDS", 60)

    def counted(url, method="get", **kw):
        with QueryCounter() as queries:
            getattr(client, method)(url, **kw)
        return len([q for q in queries.statements if "GROUP BY" in q or "SUM(CASE" in q])
    assert counted("/admin/claim/") == 2
    assert counted("/admin/queue/overdue/") == 0  # kept from the page before
    client.post("/language/it", data={"csrf_token": csrf_token(client, "/admin/"), "next": "/admin/"})
    assert counted("/admin/claim/") == 2  # the user changed something: counted again
    monkeypatch.setitem(app.config, "MENU_COUNTS_SECONDS", 0)
    assert counted("/admin/claim/") == 2 and counted("/admin/claim/") == 2  # 0: every page counts


def test_a_queue_page_runs_as_many_statements_at_any_size(client, f, board):
    login(client, board.users.admin)
    for _ in range(105):
        with_deadline(f.claim(board.rossi, board.alfa), ClaimStatus.FILED, TODAY.replace(day=1), TODAY.replace(day=1),
                      "offer")
    for url in ("/admin/queue/overdue/", f"/admin/claim/?flt0_{filter_number(LevelFilter)}=overdue&sort={sort_number('level')}"):
        counts = {}
        for size in (20, 100):
            with QueryCounter() as queries:
                html = page(client, f"{url}{'&' if '?' in url else '?'}page_size={size}")
            assert html.count('class="claim-number"') == size
            counts[size] = queries.count
        assert counts[20] == counts[100], (url, counts)
