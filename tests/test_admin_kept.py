"""What the claims grid's pages draw from their own statements and keep per user a while
(`admin_views/kept.py`): the filters' drop-downs and the bulk panel's lawyers.

The suite reads them on every page (`CHOICES_SECONDS` 0 in conftest); these tests set the
production interval.
"""
from __future__ import annotations

import re

import pytest

from models import Role

from .conftest import QueryCounter, csrf_token, login

PARTY_TABLES = ("lawyer", "repairer", "asp_centre", "insurance_company")


def choice_statements(statements) -> list[str]:
    """The statements that read a party table for itself (a drop-down), not joined to claims."""
    first_table = re.compile(r'^\W*SELECT [^()]* FROM "(%s)" AS "t1"' % "|".join(PARTY_TABLES))
    return [s for s in statements if first_table.match(s)]


def bulk_lawyers(html) -> list[str]:
    select = html[html.index('id="bulk-lawyer"'):]
    select = select[:select.index("</select>")]
    return re.findall(r'<option value="\d+">([^<]+)</option>', select)


def grid(client) -> tuple[str, list[str]]:
    with QueryCounter() as queries:
        response = client.get("/admin/claim/")
    assert response.status_code == 200
    return response.get_data(as_text=True), queries.statements


@pytest.fixture
def centres(f, app, monkeypatch):
    """Two ASP centres, each with a manager and a lawyer of its own, and the production interval."""
    monkeypatch.setitem(app.config, "CHOICES_SECONDS", 60)
    made = []
    for name in ("Nord", "Sud"):
        centre = f.centre(name=f"Centro {name}")
        lawyer = f.lawyer(centre, name=f"Avv. {name}")
        manager = f.user(Role.ASP_MANAGER, login=f"manager.{name.lower()}", asp_centre=centre)
        made.append((centre, lawyer, manager))
    return made


def test_the_drop_downs_and_the_bulk_lawyers_are_read_once_a_while(app, client, centres):
    _centre, lawyer, manager = centres[0]
    login(client, manager)
    html, statements = grid(client)
    assert choice_statements(statements), statements  # the first page reads them
    assert bulk_lawyers(html) == [lawyer.name]
    html, statements = grid(client)
    assert choice_statements(statements) == []  # kept
    assert bulk_lawyers(html) == [lawyer.name] and lawyer.name in html.split('id="filter-groups-data"')[1]
    app.config["CHOICES_SECONDS"] = 0
    assert choice_statements(grid(client)[1])  # 0: read on every page


def test_a_kept_drop_down_is_its_users_own(app, centres):
    pages = {}
    for centre, lawyer, manager in centres:
        client = app.test_client()
        login(client, manager)
        grid(client)
        pages[lawyer.name] = grid(client)[0]  # the second page: from what was kept
    north, south = pages["Avv. Nord"], pages["Avv. Sud"]
    assert bulk_lawyers(north) == ["Avv. Nord"] and bulk_lawyers(south) == ["Avv. Sud"]
    assert "Avv. Sud" not in north and "Centro Sud" not in north
    assert "Avv. Nord" not in south and "Centro Nord" not in south


@pytest.fixture
def colleagues(app, f, centres):
    """Two managers of the first centre, each logged in and having seen the grid once."""
    centre, _lawyer, manager = centres[0]
    colleague = f.user(Role.ASP_MANAGER, login="manager.nord2", asp_centre=centre)
    clients = app.test_client(), app.test_client()
    for client, user in zip(clients, (manager, colleague)):
        login(client, user)
        grid(client)
    return clients


def counted_menus(statements) -> int:
    return len([s for s in statements if "GROUP BY" in s or "SUM(CASE" in s])


def test_a_new_lawyer_shows_at_once_to_whoever_added_it_and_to_the_others(app, colleagues, monkeypatch):
    monkeypatch.setitem(app.config, "MENU_COUNTS_SECONDS", 60)
    watcher, adder = colleagues
    assert counted_menus(grid(watcher)[1]) == 2 and counted_menus(grid(watcher)[1]) == 0  # kept
    response = adder.post("/admin/lawyer/new/", data={
        "csrf_token": csrf_token(adder, "/admin/lawyer/new/"), "name": "Avv. Nuovo",
        "kind": "firm", "email": "nuovo@example.it", "active": "y"})
    assert response.status_code == 302
    assert bulk_lawyers(grid(adder)[0]) == ["Avv. Nord", "Avv. Nuovo"]
    html, statements = grid(watcher)  # a POST to the lawyers' grid: everything kept is read again
    assert bulk_lawyers(html) == ["Avv. Nord", "Avv. Nuovo"] and counted_menus(statements) == 2


def test_a_post_elsewhere_forgets_only_the_posters_own(f, centres, colleagues):
    watcher, poster = colleagues
    f.lawyer(centres[0][0], name="Avv. Silenzioso")  # written past the grids, as another process would
    poster.post("/language/it", data={"csrf_token": csrf_token(poster, "/admin/"), "next": "/admin/"})
    assert "Avv. Silenzioso" in bulk_lawyers(grid(poster)[0])
    assert "Avv. Silenzioso" not in bulk_lawyers(grid(watcher)[0])  # within the interval


def menu(html) -> str:
    return html[html.index('<ul class="nav navbar-nav mr-auto">'):html.index('<ul class="nav navbar-nav navbar-right">')]


def active(html) -> list[str]:
    """The menu items drawn as the page's own."""
    return re.findall(r'class="dropdown-item active [^"]*" href="([^"]+)"|<li class="active">\s*<a class="nav-link [^"]*" '
                      r'href="([^"]+)"', menu(html))


def test_the_menu_is_kept_per_user_view_and_language(app, f, centres, monkeypatch):
    monkeypatch.setitem(app.config, "MENU_COUNTS_SECONDS", 60)
    admin, manager = app.test_client(), app.test_client()
    login(admin, f.user(Role.ADMIN, login="callcenter.kept"))
    login(manager, centres[0][2])
    pages = {}
    for _ in range(2):  # the second time from what was kept
        for who, client in (("admin", admin), ("manager", manager)):
            for url in ("/admin/claim/", "/admin/queue/overdue/"):
                response = client.get(url)
                assert response.status_code == 200
                pages[who, url] = response.get_data(as_text=True)
    assert active(pages["admin", "/admin/claim/"]) == [("", "/admin/claim/")]
    assert active(pages["admin", "/admin/queue/overdue/"]) == [("/admin/queue/overdue/", "")]
    assert "/admin/user/" in menu(pages["admin", "/admin/claim/"])
    assert "/admin/user/" not in menu(pages["manager", "/admin/claim/"])  # the call centre's menu is its own
    admin.post("/language/en", data={"csrf_token": csrf_token(admin, "/admin/"), "next": "/admin/"})
    assert "Claims</a>" in menu(admin.get("/admin/claim/").get_data(as_text=True))
    assert "Pratiche" in menu(manager.get("/admin/claim/").get_data(as_text=True))


def test_the_kept_menu_is_drawn_once(app, f, centres, monkeypatch):
    monkeypatch.setitem(app.config, "MENU_COUNTS_SECONDS", 60)
    from admin_views.claims import QueueView

    client = app.test_client()
    login(client, centres[0][2])
    asked = []
    monkeypatch.setattr(QueueView, "is_visible", lambda view: asked.append(view.endpoint) or True)
    client.get("/admin/claim/")
    assert asked  # drawn: each queue asked whether it shows
    asked.clear()
    client.get("/admin/claim/?page=1")
    assert asked == []


def test_past_its_bound_the_store_loses_the_expired_first(app, monkeypatch):
    from admin_views import kept as store
    from flask_login import login_user

    monkeypatch.setattr(store, "MAX_KEPT", 4)
    monkeypatch.setitem(app.config, "MENU_COUNTS_SECONDS", 20)
    monkeypatch.setitem(app.config, "CHOICES_SECONDS", 60)
    clock = [1000.0]
    monkeypatch.setattr(store.time, "monotonic", lambda: clock[0])
    users = [type("U", (), {"get_id": lambda self, n=n: f"token-{n}", "is_authenticated": True,
                            "is_active": True, "is_anonymous": False})() for n in range(6)]

    def keep(user, kind="counts"):
        with app.test_request_context():
            login_user(user)
            return store.kept(kind, "x", lambda: user.get_id())
    keep(users[0]), keep(users[1])  # kept 20 s
    clock[0] += 30  # those two have expired
    keep(users[2]), keep(users[3], "choices")  # kept 20 s and 60 s
    keep(users[4])  # the store is full: the expired go, the fresh stay
    assert {key[0] for key in store._kept} == {"token-2", "token-3", "token-4"}
    keep(users[5])
    assert len(store._kept) == 4
    keep(users[0])  # full of fresh values: start again
    assert {key[0] for key in store._kept} == {"token-0"}
