"""The work queues (workflows/queues.py): which claims each holds, and a user's counts.

Every date is worked by hand from a fixed today, Tuesday 10/03/2026; the claims'
stored next deadlines are written as test data (next_due's own tests compute them).
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from models import Claim, ClaimStatus, Role
from workflows import clock, queues

from .conftest import QueryCounter

TODAY = dt.date(2026, 3, 10)
S = ClaimStatus


def with_deadline(claim, status, due=None, warn=None, kind=None):
    """Put a test claim in `status` with a stored next deadline (test data: the workflow owns real changes)."""
    Claim.update(status=status, next_due_on=due, next_warn_on=warn, next_due_kind=kind if due else None) \
        .where(Claim.id == claim.id).execute()
    return Claim.get_by_id(claim.id)


@pytest.fixture
def board(f, monkeypatch):
    """Claims of centre Alfa (two body shops) and of centre Beta, around 10/03/2026."""
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    alfa, beta = f.centre(name="Centro Alfa"), f.centre(name="Centro Beta")
    rossi, verdi, bianchi = f.repairer(name="Carrozzeria Rossi"), f.repairer(name="Carrozzeria Verdi"), \
        f.repairer(name="Carrozzeria Bianchi")
    d = dt.date
    c = SimpleNamespace()
    c.overdue = with_deadline(f.claim(rossi, alfa), S.FILED, d(2026, 3, 7), d(2026, 2, 28), "offer")
    c.due_today = with_deadline(f.claim(verdi, alfa), S.RECEIVED, d(2026, 3, 10), d(2026, 3, 3), "queue")
    c.warned_today = with_deadline(f.claim(rossi, alfa), S.FILED, d(2026, 3, 13), d(2026, 3, 10), "payment")
    c.later = with_deadline(f.claim(rossi, alfa), S.ASSIGNED, d(2026, 3, 20), d(2026, 3, 11), "prescription")
    c.no_warning = with_deadline(f.claim(verdi, alfa), S.VALIDATED, d(2026, 3, 11), None, "queue")
    c.none = with_deadline(f.claim(rossi, alfa), S.RECEIVED)
    # a closed claim whose stale deadline is past: never in a deadline's queue
    c.closed = with_deadline(f.claim(rossi, alfa), S.REIMBURSED, d(2026, 3, 1), d(2026, 2, 20), "offer")
    c.beta_overdue = with_deadline(f.claim(bianchi, beta), S.FILED, d(2026, 3, 5), d(2026, 2, 26), "offer")
    c.beta_soon = with_deadline(f.claim(bianchi, beta), S.ASSIGNED, d(2026, 3, 12), d(2026, 3, 9), "queue")
    users = SimpleNamespace(
        admin=f.user(Role.ADMIN, login="callcenter-queues"),
        manager=f.user(Role.ASP_MANAGER, asp_centre=alfa, login="asp-alfa-queues"),
        beta_manager=f.user(Role.ASP_MANAGER, asp_centre=beta, login="asp-beta-queues"),
        repairer=f.user(Role.REPAIRER, repairer=rossi, login="rossi-queues"),
    )
    return SimpleNamespace(claims=c, users=users, alfa=alfa, beta=beta, rossi=rossi)


def in_queue(slug, user, today=TODAY):
    from workflows import access
    query = access.visible_claims(user).where(queues.BY_SLUG[slug].clause(today)).order_by(Claim.id)
    return [claim.id for claim in query]


def ids(*claims):
    return sorted(claim.id for claim in claims)


def test_the_deadline_queues_hold_the_open_claims_at_their_level_today(board):
    c, admin = board.claims, board.users.admin
    assert in_queue("overdue", admin) == ids(c.overdue, c.beta_overdue)  # not the closed one, whose date is past too
    assert in_queue("due-soon", admin) == ids(c.due_today, c.warned_today, c.beta_soon)


def test_a_day_later_the_queues_move_with_it(board):
    c, admin = board.claims, board.users.admin
    # 14/03/2026: the payment due on 13/03 is overdue, the prescription warned from 11/03 is due soon
    assert in_queue("overdue", admin, dt.date(2026, 3, 14)) == ids(c.overdue, c.due_today, c.warned_today,
                                                                      c.no_warning, c.beta_overdue, c.beta_soon)
    assert in_queue("due-soon", admin, dt.date(2026, 3, 14)) == ids(c.later)


def test_the_state_queues_are_the_states_they_were(board):
    c, admin = board.claims, board.users.admin
    assert in_queue("to-validate", admin) == ids(c.due_today, c.none)
    assert in_queue("closed", admin) == ids(c.closed)
    assert [q.slug for q in queues.QUEUES] == ["to-validate", "incomplete", "to-assign", "assigned",
                                                "awaiting-offer", "partially-reimbursed", "closed",
                                                "due-soon", "overdue"]  # the addresses e-mails link to


def test_counts_are_scoped_to_the_user(board):
    users = board.users
    assert queues.counts(users.admin, TODAY) == {
        "to-validate": 2, "incomplete": 0, "to-assign": 1, "assigned": 2, "awaiting-offer": 3,
        "partially-reimbursed": 0, "closed": 1, "due-soon": 3, "overdue": 2}
    assert queues.counts(users.manager, TODAY) == {
        "to-validate": 2, "incomplete": 0, "to-assign": 1, "assigned": 1, "awaiting-offer": 2,
        "partially-reimbursed": 0, "closed": 1, "due-soon": 2, "overdue": 1}
    assert queues.counts(users.beta_manager, TODAY) == {
        "to-validate": 0, "incomplete": 0, "to-assign": 0, "assigned": 1, "awaiting-offer": 1,
        "partially-reimbursed": 0, "closed": 0, "due-soon": 1, "overdue": 1}
    # the body shop counts its own claims only (not Carrozzeria Verdi's, at the same centre)
    assert queues.counts(users.repairer, TODAY) == {
        "to-validate": 1, "incomplete": 0, "to-assign": 0, "assigned": 1, "awaiting-offer": 2,
        "partially-reimbursed": 0, "closed": 1, "due-soon": 1, "overdue": 1}


def test_each_count_is_the_size_of_its_queue(board):
    for user in vars(board.users).values():
        counts = queues.counts(user, TODAY)
        assert counts == {q.slug: len(in_queue(q.slug, user)) for q in queues.QUEUES}, user.login


def test_counts_take_two_statements_whatever_the_queues(board):
    with QueryCounter() as statements:
        queues.counts(board.users.manager, TODAY)
    assert statements.count == 2
    assert "GROUP BY" in statements.statements[0] and "SUM(CASE" in statements.statements[1]


def test_a_user_with_no_claims_counts_zero_everywhere(f, board):
    lonely = f.user(Role.ASP_MANAGER, asp_centre=f.centre(name="Centro Vuoto"), login="asp-vuoto")
    assert set(queues.counts(lonely, TODAY).values()) == {0}


def test_a_lawyers_menu_leaves_out_the_queues_before_entrusting(client, board, f):
    from .conftest import login
    login(client, board.users.manager)
    manager_menu = client.get("/admin/").get_data(as_text=True)
    assert "/admin/queue/to-validate/" in manager_menu and "/admin/queue/to-assign/" in manager_menu
    login(client, f.user(Role.LAWYER, lawyer=f.lawyer(board.alfa)))
    menu = client.get("/admin/").get_data(as_text=True)
    for slug in ("to-validate", "incomplete", "to-assign"):
        assert f"/admin/queue/{slug}/" not in menu, slug
    for slug in ("assigned", "awaiting-offer", "partially-reimbursed", "closed", "due-soon", "overdue"):
        assert f"/admin/queue/{slug}/" in menu, slug
