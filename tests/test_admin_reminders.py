"""Sistema > Promemoria scadenze: the call centre's read-only grid of the reminders sent."""
from __future__ import annotations

import pytest

from models import ClaimStatus, DeadlineReminder, Role
from workflows import reminders

from .conftest import login
from .test_reminders import DAY, D, deadline
from .test_reminder_digests import at
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures and builders


@pytest.fixture
def sent(desk):
    claim = deadline(claim_in(desk, ClaimStatus.FILED), kind="offer")
    reminders.sweep(today=D + DAY)  # the lawyer's breach and the call centre's
    reminders.send_digests(D + DAY, now=at(D + DAY, 8))
    return claim


def test_the_call_centre_sees_each_reminder_with_claim_kind_level_recipient_and_digest_day(client, desk, sent):
    login(client, desk.users[Role.ADMIN])
    page = client.get("/admin/reminders/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert sent.number in html and f"/admin/claim/details/?id={sent.id}" in html
    assert "Offerta della compagnia" in html and "10/03/2027" in html and "scaduta" in html
    assert f"Legale: {desk.lawyer.name}" in html and "Call center" in html
    assert "11/03/2027" in html  # found on, and the day of the digest it went in
    assert "Promemoria scadenze" in html
    reminder = DeadlineReminder.select().first()
    details = client.get(f"/admin/reminders/details/?id={reminder.id}")
    assert details.status_code == 200 and sent.number in details.get_data(as_text=True)
    export = client.get("/admin/reminders/export/csv/")
    assert export.status_code == 200 and sent.number in export.get_data(as_text=True)
    assert client.get("/admin/reminders/?flt0_0=overdue").status_code == 200


def test_the_grid_is_read_only(client, desk, sent):
    login(client, desk.users[Role.ADMIN])
    reminder = DeadlineReminder.select().first()
    assert client.get("/admin/reminders/new/").status_code in (302, 403, 404)
    assert client.get(f"/admin/reminders/edit/?id={reminder.id}").status_code in (302, 403, 404)
    assert DeadlineReminder.select().count() == 2


@pytest.mark.parametrize("role", (Role.ASP_MANAGER, Role.LAWYER, Role.REPAIRER))
def test_no_one_but_the_call_centre_opens_it(client, desk, sent, role):
    login(client, desk.users[role])
    reminder = DeadlineReminder.select().first()
    for url in ("/admin/reminders/", f"/admin/reminders/details/?id={reminder.id}", "/admin/reminders/export/csv/"):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert sent.number not in response.get_data(as_text=True)


def test_a_visitor_is_sent_to_the_login(client, sent):
    assert client.get("/admin/reminders/").status_code == 302
