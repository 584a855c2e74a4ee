"""The home page's figures (workflows/dashboard.py), worked by hand on a small world, and
the page and its JSON in the same scope.

Today is Wednesday 2 December 2026: this week runs Monday 30/11 to Sunday 6/12, the next
7/12 to 13/12, and the 12 weeks of the trend start on Monday 14/09.
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from models import Claim, ClaimStatus, DeadlineReminder, Role
from workflows import clock, dashboard

from .conftest import QueryCounter, login

S = ClaimStatus
TODAY = dt.date(2026, 12, 2)
NOW = dt.datetime(2026, 12, 2, 11, 0)
D = dt.timedelta


def put(claim, status, age_days, due=None, warn=None, kind=None, lawyer=None):
    """Test data only: the claim in `status` for `age_days` days, with its stored next deadline."""
    Claim.update(status=status, status_since=NOW - D(days=age_days, hours=1), next_due_on=due, next_warn_on=warn,
                 next_due_kind=kind, lawyer=lawyer).where(Claim.id == claim.id).execute()
    return claim


@pytest.fixture
def world(f, monkeypatch):
    """Claims of two centres around TODAY, which the app takes as today (its pages count from
    the real date otherwise: a5, due on 04/12/2026, would be overdue from that day on)."""
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    alfa, beta = f.centre(name="Centro Alfa"), f.centre(name="Centro Beta")
    law_a, law_b = f.lawyer(alfa, name="Avv. Alfa"), f.lawyer(beta, name="Avv. Beta")
    rep_a, rep_b = f.repairer(name="Carrozzeria Alfa"), f.repairer(name="Carrozzeria Beta")
    c = {name: f.claim(rep_a if name[0] == "a" else rep_b, alfa if name[0] == "a" else beta,
                       customer_name=f"Cliente {name}")
         for name in ("a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "b1", "b2")}
    put(c["a1"], S.RECEIVED, 2)
    put(c["a2"], S.RECEIVED, 5, due=TODAY - D(days=1), warn=TODAY - D(days=3), kind="queue")      # overdue
    put(c["a3"], S.RECEIVED, 9, due=TODAY + D(days=1), warn=TODAY - D(days=1), kind="queue")      # due soon
    put(c["a4"], S.RECEIVED, 20, due=TODAY + D(days=30), warn=TODAY + D(days=20), kind="queue")   # in time
    put(c["a5"], S.FILED, 40, dt.date(2026, 12, 4), dt.date(2026, 11, 27), "offer", law_a)        # this week
    put(c["a6"], S.FILED, 10, dt.date(2026, 12, 9), dt.date(2026, 12, 2), "prescription", law_a)  # next week
    put(c["a7"], S.FILED, 25, dt.date(2026, 12, 14), dt.date(2026, 12, 7), "payment", law_a)      # the week after
    put(c["a8"], S.CLOSED, 3, lawyer=law_a)
    put(c["b1"], S.ASSIGNED, 3, TODAY - D(days=10), TODAY - D(days=15), "queue", law_b)          # overdue
    put(c["b2"], S.FILED, 60, dt.date(2026, 12, 6), dt.date(2026, 11, 29), "offer", law_b)        # this Sunday
    users = SimpleNamespace(
        admin=f.user(Role.ADMIN), manager=f.user(Role.ASP_MANAGER, asp_centre=alfa),
        lawyer=f.user(Role.LAWYER, lawyer=law_a), repairer=f.user(Role.REPAIRER, repairer=rep_b))
    return SimpleNamespace(c=c, alfa=alfa, beta=beta, law_a=law_a, law_b=law_b, users=users)


def remind(claim, found_on, due_on, recipient="callcentre", level="overdue", kind="queue"):
    DeadlineReminder.create(claim=claim, kind=kind, due_on=due_on, level=level, recipient=recipient,
                            found_on=found_on)


def numbers(items):
    return [item.number for item in items]


def test_claims_per_state_follow_the_users_scope(world):
    u = world.users
    assert dashboard.state_counts(u.admin) == {S.RECEIVED: 4, S.INCOMPLETE: 0, S.VALIDATED: 0, S.ASSIGNED: 1,
                                               S.FILED: 4, S.PARTIALLY_REIMBURSED: 0, S.REIMBURSED: 0,
                                               S.CLOSED: 1, S.DROPPED: 0, S.CANCELLED: 0}
    manager = dashboard.state_counts(u.manager)
    assert (manager[S.RECEIVED], manager[S.FILED], manager[S.ASSIGNED], manager[S.CLOSED]) == (4, 3, 0, 1)
    lawyer = dashboard.state_counts(u.lawyer)
    assert {s: n for s, n in lawyer.items() if n} == {S.FILED: 3, S.CLOSED: 1}
    assert {s: n for s, n in dashboard.state_counts(u.repairer).items() if n} == {S.ASSIGNED: 1, S.FILED: 1}


def test_open_and_overdue_claims_per_centre_and_per_lawyer(world):
    u = world.users
    row = lambda b: (b.name, b.open, b.overdue)  # noqa: E731
    assert [row(b) for b in dashboard.by_centre(u.admin, TODAY)] == [("Centro Alfa", 7, 1), ("Centro Beta", 2, 1)]
    assert [row(b) for b in dashboard.by_lawyer(u.admin, TODAY)] == [("Avv. Alfa", 3, 0), ("Avv. Beta", 2, 1)]
    # the manager: its centre only, and the lawyers of its claims (the closed one not counted)
    assert [row(b) for b in dashboard.by_centre(u.manager, TODAY)] == [("Centro Alfa", 7, 1)]
    assert [row(b) for b in dashboard.by_lawyer(u.manager, TODAY)] == [("Avv. Alfa", 3, 0)]
    # a lawyer: itself, no centres; a repairer: neither
    assert dashboard.by_centre(u.lawyer, TODAY) == []
    assert [row(b) for b in dashboard.by_lawyer(u.lawyer, TODAY)] == [("Avv. Alfa", 3, 0)]
    assert dashboard.by_centre(u.repairer, TODAY) == dashboard.by_lawyer(u.repairer, TODAY) == []
    # five days on, a5 and b2 are overdue too: the count follows `today`
    later = {b.name: b.overdue for b in dashboard.by_lawyer(u.admin, dt.date(2026, 12, 7))}
    assert later == {"Avv. Alfa": 1, "Avv. Beta": 2}


def test_each_queue_has_its_median_and_oldest_age_in_days(world):
    ages = {a.status: (a.claims, a.median_days, a.oldest_days) for a in dashboard.queue_ages(world.users.admin, NOW)}
    # received: 20, 9, 5, 2 days -> the lower middle of four, counted from the oldest, is 9
    # filed: 60, 40, 25, 10 -> 40; assigned: one claim of 3 days; closed claims are no queue
    assert ages == {S.RECEIVED: (4, 9, 20), S.ASSIGNED: (1, 3, 3), S.FILED: (4, 40, 60)}
    manager = {a.status: (a.claims, a.median_days, a.oldest_days)
               for a in dashboard.queue_ages(world.users.manager, NOW)}
    assert manager == {S.RECEIVED: (4, 9, 20), S.FILED: (3, 25, 40)}  # 40, 25, 10 -> the middle one


def test_the_one_pass_over_open_claims_gives_the_same_groups_and_ages(world):
    for user in vars(world.users).values():
        groups, ages = dashboard.open_figures(user, TODAY, NOW)
        assert set(groups) == set(dashboard.open_groups(user, TODAY))
        assert ages == dashboard.queue_ages(user, NOW)
    groups, _ = dashboard.open_figures(world.users.admin, TODAY, NOW)
    assert sum(g.open for g in groups) == 9 and sum(g.overdue for g in groups) == 2


def test_a_queue_of_one_odd_count_takes_the_middle_claim(world, f):
    extra = f.claim(f.repairer(), world.alfa)
    put(extra, S.RECEIVED, 7)  # received now 20, 9, 7, 5, 2 days
    ages = {a.status: (a.median_days, a.oldest_days) for a in dashboard.queue_ages(world.users.manager, NOW)}
    assert ages[S.RECEIVED] == (7, 20)


def test_overdue_and_due_soon_now(world):
    u = world.users
    assert dashboard.deadline_levels(u.admin, TODAY) == (2, 4)  # a2, b1; a3, a5, a6, b2
    assert dashboard.deadline_levels(u.manager, TODAY) == (1, 3)
    assert dashboard.deadline_levels(u.lawyer, TODAY) == (0, 2)
    assert dashboard.deadline_levels(u.repairer, TODAY) == (1, 1)


def test_the_trend_counts_claims_become_overdue_per_week_once_each(world):
    c, u = world.c, world.users
    remind(c["a2"], dt.date(2026, 12, 1), TODAY - D(days=1))                          # this week
    remind(c["a2"], dt.date(2026, 12, 1), TODAY - D(days=1), recipient="centre:1")   # the same claim, told twice
    remind(c["b1"], dt.date(2026, 11, 23), TODAY - D(days=10))                        # last week (Monday)
    remind(c["b1"], dt.date(2026, 11, 20), TODAY - D(days=10), level="due_soon")      # a warning is no breach
    remind(c["a6"], dt.date(2026, 9, 14), dt.date(2026, 9, 13))                       # the first week's Monday
    remind(c["a6"], dt.date(2026, 9, 20), dt.date(2026, 9, 19))                       # its Sunday: again once
    remind(c["a5"], dt.date(2026, 9, 13), dt.date(2026, 9, 12))                       # the day before: outside
    remind(c["a8"], dt.date(2026, 10, 5), dt.date(2026, 10, 4))                       # closed since: still counted
    trend = dashboard.overdue_trend(u.admin, TODAY)
    assert [monday for monday, _ in trend][:2] == [dt.date(2026, 9, 14), dt.date(2026, 9, 21)]
    assert trend[-1][0] == dt.date(2026, 11, 30) and len(trend) == 12
    assert [n for _, n in trend] == [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1]
    assert [n for _, n in dashboard.overdue_trend(u.manager, TODAY)] == [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    assert [n for _, n in dashboard.overdue_trend(u.repairer, TODAY)] == [0] * 10 + [1, 0]


def test_only_an_active_call_centre_user_reads_the_trend_without_the_scope(world, f):
    from workflows import access
    remind(world.c["b1"], dt.date(2026, 11, 23), TODAY - D(days=10))
    gone = f.user(Role.ADMIN, active=False)
    assert access.sees_all(world.users.admin) and not access.sees_all(gone)
    assert not any(access.sees_all(u) for u in (world.users.manager, world.users.lawyer, world.users.repairer))
    assert sum(n for _, n in dashboard.overdue_trend(world.users.admin, TODAY)) == 1
    assert sum(n for _, n in dashboard.overdue_trend(gone, TODAY)) == 0
    assert sum(n for _, n in dashboard.overdue_trend(world.users.manager, TODAY)) == 0


def test_legal_terms_falling_due_this_week_and_next(world):
    u = world.users
    zero = {"offer": 0, "payment": 0, "prescription": 0}
    assert dashboard.legal_terms_due(u.admin, TODAY) == {
        "this_week": zero | {"offer": 2}, "next_week": zero | {"prescription": 1}}
    assert dashboard.legal_terms_due(u.manager, TODAY) == {
        "this_week": zero | {"offer": 1}, "next_week": zero | {"prescription": 1}}
    assert numbers(dashboard.legal_term_claims(u.admin, TODAY)) == [
        world.c[n].number for n in ("a5", "b2", "a6")]
    # on Monday 7/12 the weeks have moved on: a7's payment (14/12) is next week's
    assert dashboard.legal_terms_due(u.admin, dt.date(2026, 12, 7))["next_week"] == zero | {"payment": 1}


def test_the_to_do_list_is_the_users_late_claims_most_urgent_first(world):
    c, u = world.c, world.users
    todo = dashboard.todo(u.admin, TODAY)
    assert numbers(todo) == [c[n].number for n in ("b1", "a2", "a3", "a5", "b2", "a6")]
    assert [i.level for i in todo] == ["overdue", "overdue", "due_soon", "due_soon", "due_soon", "due_soon"]
    assert [str(i.action) for i in todo[:4]] == [
        "Inviare la richiesta danni alla compagnia", "Controllare i documenti e validare la pratica",
        "Controllare i documenti e validare la pratica", "Sollecitare l'offerta della compagnia"]
    assert str(todo[-1].action) == "Interrompere la prescrizione (raccomandata o PEC alla compagnia)"
    assert numbers(dashboard.todo(u.admin, TODAY, limit=3)) == [c[n].number for n in ("b1", "a2", "a3")]
    assert numbers(dashboard.todo(u.manager, TODAY)) == [c[n].number for n in ("a2", "a3", "a5", "a6")]
    assert numbers(dashboard.todo(u.lawyer, TODAY)) == [c[n].number for n in ("a5", "a6")]


def test_the_sections_of_each_role(world):
    u = world.users
    assert dashboard.for_user(u.admin, TODAY, NOW).sections == ("centres", "lawyers")
    assert dashboard.for_user(u.manager, TODAY, NOW).sections == ("centres", "lawyers")
    lawyer = dashboard.for_user(u.lawyer, TODAY, NOW)
    assert lawyer.sections == ("lawyers",) and lawyer.centres == []
    repairer = dashboard.for_user(u.repairer, TODAY, NOW)
    assert repairer.sections == () and repairer.centres == repairer.lawyers == [] and repairer.simple
    assert {s: n for s, n in repairer.states.items() if n} == {S.ASSIGNED: 1, S.FILED: 1}
    assert (repairer.todo, repairer.trend, repairer.ages, repairer.overdue) == ([], [], [], 0)
    assert not any(dashboard.for_user(user, TODAY, NOW).simple for user in (u.admin, u.manager, u.lawyer))


def test_the_number_of_queries_does_not_grow_with_the_claims(world, f):
    def queries():
        with QueryCounter() as counter:
            dashboard.for_user(world.users.manager, TODAY, NOW)
        return counter.count

    before = queries()
    lawyer = f.lawyer(world.alfa, name="Avv. Nuovo")
    for i in range(12):
        claim = f.claim(f.repairer(), world.alfa)
        put(claim, (S.RECEIVED, S.ASSIGNED, S.FILED)[i % 3], i, TODAY - D(days=i % 4), TODAY - D(days=5), "offer",
            lawyer if i % 3 else None)
        remind(claim, TODAY - D(days=i * 6), TODAY - D(days=i))
    assert queries() == before
    assert before <= 10


# ---- the page and its JSON ---------------------------------------------------------

def test_the_page_and_its_data_show_a_manager_only_its_centre(client, world):
    login(client, world.users.manager)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Centro Alfa" in page and "Centro Beta" not in page and "Avv. Beta" not in page
    assert world.c["a2"].number in page and world.c["b1"].number not in page
    assert 'id="by-centres"' in page and 'id="by-lawyers"' in page
    assert "/admin/queue/overdue/" in page and "/admin/queue/due-soon/" in page
    assert "/admin/queue/to-validate/" in page  # the received queue, from its age row
    assert "vendor/chartjs/chart.umd.min.js" in page and "js/dashboard.js" in page
    response = client.get("/admin/dashboard/data")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "no-store" in response.headers["Cache-Control"]
    data = response.get_json()
    assert [c["name"] for c in data["centres"]] == ["Centro Alfa"]
    assert [(r["name"], r["open"], r["overdue"]) for r in data["lawyers"]] == [("Avv. Alfa", 3, 0)]
    assert {s["status"]: s["count"] for s in data["states"]}[S.RECEIVED] == 4
    assert (data["overdue"], data["due_soon"]) == (1, 3)
    assert [w["claims"] for w in data["trend"]] == [0] * 12  # no reminders in this world
    assert len(data["trend"]) == 12 and "Beta" not in response.get_data(as_text=True)


def test_the_call_centre_sees_every_centre_and_a_repairer_no_breakdown(client, world):
    login(client, world.users.admin)
    data = client.get("/admin/dashboard/data").get_json()
    assert [c["name"] for c in data["centres"]] == ["Centro Alfa", "Centro Beta"]
    login(client, world.users.repairer)
    page = client.get("/admin/").get_data(as_text=True)
    assert 'id="by-centres"' not in page and 'id="by-lawyers"' not in page and "Centro Alfa" not in page
    assert 'id="status-counts"' in page and 'data-chart="states"' in page  # its claims per state, and no more
    assert 'id="todo"' not in page and 'id="queue-ages"' not in page and 'data-chart="trend"' not in page
    data = client.get("/admin/dashboard/data").get_json()
    assert data["centres"] == data["lawyers"] == [] and data["sections"] == []
    assert {s["status"]: s["count"] for s in data["states"] if s["count"]} == {S.ASSIGNED: 1, S.FILED: 1}


def test_the_data_needs_a_login(client, world):
    response = client.get("/admin/dashboard/data")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert b"Centro" not in response.data


def test_the_dashboard_speaks_english_to_an_english_user(client, world, f):
    login(client, f.user(Role.ADMIN, language="en"))
    page = client.get("/admin/").get_data(as_text=True)
    assert "To do today" in page and "Legal terms falling due" in page and "Da fare oggi" not in page
    assert "Chase the insurer for its offer" in page  # a5's action
    data = client.get("/admin/dashboard/data").get_json()
    assert data["text"]["overdue"] == "Open, overdue" and data["states"][0]["label"] == "Received"


# ---- the plans: the open claims and the trend read from indexes alone ------------------

def _plan(sql: str, params) -> str:
    from models import db, is_postgres
    if is_postgres():  # tiny tables: ask whether an index can answer alone at all
        db.execute_sql("SET enable_seqscan = off")
        db.execute_sql("SET enable_bitmapscan = off")
        try:
            return " ".join(r[0] for r in db.execute_sql("EXPLAIN " + sql, params))
        finally:
            db.execute_sql("RESET enable_seqscan")
            db.execute_sql("RESET enable_bitmapscan")
    return " ".join(str(r[-1]) for r in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))


def _covered(plan: str, index: str) -> bool:
    return index in plan and ("COVERING INDEX" in plan or "Index Only Scan" in plan)


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_the_dashboard_reads_the_open_claims_and_the_trend_from_covering_indexes(world, who):
    import logging

    class Statements(logging.Handler):  # the SQL with its parameters, to ask for its plan
        def __init__(self):
            super().__init__(logging.DEBUG)
            self.sent = []

        def emit(self, record):
            self.sent.append(record.msg)

    user, handler, logger = getattr(world.users, who), Statements(), logging.getLogger("peewee")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        dashboard.for_user(user, TODAY, NOW)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    statements = [s for s in handler.sent if isinstance(s, tuple)]
    groups = [s for s in statements if "status_since" in s[0] or '"lawyer_id", COUNT' in s[0]]  # groups, ages
    trend = [s for s in statements if 'FROM "deadline_reminder"' in s[0]]
    assert len(groups) == 2 and trend
    claim_index = "claim_status_asp_centre_id_lawyer_id_status_since_next_due_on_next_warn_on"
    from models import is_postgres
    # On a few rows PostgreSQL's planner takes the centre's own index for a manager's scope,
    # by its statistics; the call centre's reads have no other index to take.
    for sql, params in groups if who == "admin" or not is_postgres() else ():
        assert _covered(_plan(sql, params), claim_index[:40]), sql
    if who == "admin":  # the call centre's trend reads no claim: the reminders' index alone
        sql, params = trend[0]
        assert _covered(_plan(sql, params), "found_on_level_claim_id"), sql
