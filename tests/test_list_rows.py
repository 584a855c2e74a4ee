"""The list page's rows drawn from their values (`admin_views/list_rows.py`): every cell is
the one Flask-Admin's own `get_list_value` gives, a cell marked `by_value` is drawn once per
value, and a row's links are the ones `url_for` builds."""
from __future__ import annotations

import datetime as dt
import re

import flask_babel
import pytest
from flask_admin.helpers import set_current_view
from flask_login import login_user
from markupsafe import Markup

from admin_views import claims as claim_columns
from admin_views import list_rows
from admin_views.list_rows import PageRows, row_link, row_url
from models import Claim, ClaimStatus, InsuranceCompany

from .conftest import QueryCounter, login
from .test_queues import board, with_deadline  # noqa: F401 - fixture and builder

S = ClaimStatus


def shown(value) -> str:
    """A cell as the template writes it: Markup as it is, anything else escaped."""
    return str(value) if isinstance(value, Markup) else str(Markup.escape(value))


@pytest.fixture
def grid_page(app, board, f):
    """The claims grid's list page as the call centre opens it, with a duplicate among the rows
    and a claim due the same day as another, at another level and for another reason."""
    Claim.update(possible_duplicates=True).where(Claim.id == board.claims.later.id).execute()
    twin = board.claims.warned_today  # due 13/03, warned from 10/03 (today): due soon, payment
    with_deadline(f.claim(board.rossi, board.alfa), S.ASSIGNED, twin.next_due_on, dt.date(2026, 3, 12), "queue")
    view = app.extensions["gessin_admin"].views_by_endpoint["claim"]
    with app.test_request_context("/admin/claim/?page_size=100"):
        set_current_view(view)  # as Flask-Admin does for a request: its words come from our translations too
        login_user(board.users.admin)
        _count, rows = view.get_list(0, None, False, None, [], page_size=100)
        yield view, rows, PageRows(view, "/admin/claim/", view.get_list_row_actions(), view.get_list_columns(), True)


def test_every_cell_is_the_one_flask_admin_draws(grid_page):
    view, rows, page = grid_page
    columns = [name for name, _label in view.get_list_columns()]
    assert {"number", "status", "level", "days_left", "next_due_on", "status_since", "repairer"} <= set(columns)
    assert len(rows) == 10
    for row in rows:
        for name in columns:
            assert shown(page.cell(None, row, name)) == shown(view.get_list_value(None, row, name)), (row.number, name)


def test_a_cell_marked_by_value_is_drawn_once_per_value(grid_page, monkeypatch):
    view, rows, page = grid_page
    drawn = []
    monkeypatch.setattr(claim_columns, "status_badge", lambda status: drawn.append(status) or Markup(status))
    cells = [page.cell(None, row, "status") for row in rows]
    assert sorted(drawn) == sorted({row.status for row in rows}) and len(drawn) < len(rows)
    assert cells == [Markup(row.status) for row in rows]


def test_the_rows_links_are_those_url_for_builds(grid_page):
    view, rows, page = grid_page
    for row in rows:
        assert row_url(view, ".details_view", row.id) == view.get_url(".details_view", id=row.id)
        assert row_link(view, ".edit_view", url="/admin/claim/?a=1&b=2")(row.id) == \
            view.get_url(".edit_view", id=row.id, url="/admin/claim/?a=1&b=2")
    buttons = [b for b in page.buttons if b.link]
    assert buttons and all(b.link(rows[0].id) == view.get_url(
        ".details_view" if "eye" in b.icon else ".edit_view", id=rows[0].id, url="/admin/claim/") for b in buttons)


def test_a_row_is_its_checkbox_its_buttons_and_a_cell_per_column(grid_page):
    view, rows, page = grid_page
    columns = [name for name, _label in view.get_list_columns()]
    for row in rows:
        html = str(page.row(None, row))
        assert html.startswith(f'<td><input type="checkbox" name="rowid" class="action-checkbox" value="{row.id}" ')
        buttons = html[html.index('<td class="list-buttons-column">'):html.index("</td>", html.index("list-buttons"))]
        assert f'href="{view.get_url(".details_view", id=row.id, url="/admin/claim/")}"'.replace("&", "&amp;") in buttons
        assert re.findall(r'<td class="col-([a-z_]+)">', html) == columns
        assert f'<td class="col-status">{page.cell(None, row, "status")}</td>' in html
        assert f'<td class="col-number">{page.cell(None, row, "number")}</td>' in html


def test_a_cell_marked_by_value_is_kept_for_the_next_pages_in_its_language(grid_page, monkeypatch):
    view, rows, page = grid_page
    drawn = []
    monkeypatch.setattr(claim_columns, "status_badge",
                        lambda status: drawn.append(status) or Markup(f"{status}:{flask_babel.get_locale()}"))
    first = [page.cell(None, row, "status") for row in rows]
    again = PageRows(view, "/admin/claim/", view.get_list_row_actions(), view.get_list_columns(), True)
    assert [again.cell(None, row, "status") for row in rows] == first  # the next page: nothing drawn again
    assert sorted(drawn) == sorted({row.status for row in rows})
    with flask_babel.force_locale("en"):  # a user who reads the grid in English
        english = PageRows(view, "/admin/claim/", view.get_list_row_actions(), view.get_list_columns(), True)
        cells = [english.cell(None, row, "status") for row in rows]
    assert cells == [Markup(f"{row.status}:en") for row in rows]  # drawn again, in English
    assert len(drawn) == 2 * len({row.status for row in rows})


def test_the_kept_cells_are_bounded(grid_page, monkeypatch):
    view, rows, page = grid_page
    monkeypatch.setattr(list_rows, "MAX_KEPT_CELLS", 2)
    cells = [page.cell(None, row, "status_since") for row in rows]
    assert len(list_rows.KEPT_CELLS) <= 2
    assert cells == [view.get_list_value(None, row, "status_since") for row in rows]


# A party read by its id (peewee's lazy foreign key: `... FROM "repairer" AS "t1" WHERE ... LIMIT`).
PARTY_BY_ID = re.compile(r'^\W*SELECT [^()]* FROM "(repairer|asp_centre|lawyer|insurance_company)" AS "t1" '
                         r'WHERE \("t1"\."id" = .* LIMIT')


def test_the_grid_reads_its_parties_names_by_subqueries_not_joins(client, board, f):
    """The rows' one SELECT carries each party's name (a join of five tables costs PostgreSQL
    some 1.5 ms to plan on every page); a name changed shows on the next page."""
    claim = board.claims.later
    lawyer, insurer = f.lawyer(board.alfa, name="Avv. Neri"), InsuranceCompany.create(name="Assicura Uno")
    Claim.update(lawyer=lawyer, insurer=insurer).where(Claim.id == claim.id).execute()
    login(client, board.users.admin)
    by_repairer, by_lawyer = (claim_columns.ClaimView.column_list.index(name) for name in ("repairer", "lawyer"))
    for query in ("page_size=20", "page_size=100", f"sort={by_repairer}", f"sort={by_lawyer}&desc=1"):
        with QueryCounter() as queries:  # sorted by a party: its name's subquery beside the sort's
            page = client.get(f"/admin/claim/?{query}").get_data(as_text=True)
        rows = [s for s in queries.statements if '"t1"."vehicle_a_plate", ' in s and "LIMIT" in s and "COUNT" not in s]
        assert len(rows) == 1 and " JOIN " not in rows[0], rows
        assert all(f'AS "{party}_name"' in rows[0] for party in ("repairer", "asp_centre", "lawyer", "insurer"))
        assert not [s for s in queries.statements if PARTY_BY_ID.match(s)]  # no party read row by row
        row = page[page.index(claim.number):]
        row = row[:row.index("</tr>")]
        for name in ("Carrozzeria Rossi", "Centro Alfa", "Avv. Neri", "Assicura Uno"):
            assert f">{name}</td>" in row, (name, row)
    board.rossi.name = "Carrozzeria Rossi & Figli"
    board.rossi.save()
    page = client.get("/admin/claim/").get_data(as_text=True)
    row = page[page.index(claim.number):]
    assert "Carrozzeria Rossi &amp; Figli</td>" in row[:row.index("</tr>")]
