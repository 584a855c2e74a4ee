"""The reminders' periodic task (tasks/reminders.py): in the worker app, under a lock, every
quarter hour; and, end to end, the real huey consumer and a real SMTP server."""
from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections import Counter

import pytest
from huey.exceptions import TaskLockedException

from models import ClaimStatus, DeadlineReminder, OutboundEmail, ReminderDigest, Role, User
from tasks import huey
from tasks import reminders as reminder_tasks
from workflows import clock

from .consumer import Consumer
from .test_mail import queue, smtp, wait_for, worker_app  # noqa: F401 - fixtures
from .test_reminders import DAY, deadline
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures and builders


@pytest.fixture
def any_hour(worker_app):
    saved = worker_app.config["REMINDER_DIGEST_HOUR"]
    worker_app.config["REMINDER_DIGEST_HOUR"] = 0
    yield worker_app
    worker_app.config["REMINDER_DIGEST_HOUR"] = saved


def claims_due_today(desk):
    """Three claims of the centre in their warning days, two of the lawyer past their deadline."""
    today = clock.today()
    User.update(email="callcenter@example.it").where(User.id == desk.users[Role.ADMIN].id).execute()
    soon = [deadline(claim_in(desk, ClaimStatus.VALIDATED), due_on=today + 2 * DAY, warn_on=today - DAY)
            for _ in range(3)]
    late = [deadline(claim_in(desk, ClaimStatus.FILED), kind="offer", due_on=today - DAY, warn_on=today - 8 * DAY)
            for _ in range(2)]
    OutboundEmail.delete().execute()  # the state changes' own e-mails (and their tasks): not what these tests count
    huey.flush()
    return soon, late


def test_the_task_sweeps_and_sends_the_digests_in_the_worker_app_and_a_second_run_adds_nothing(
        any_hour, desk, queue):
    soon, late = claims_due_today(desk)
    reminder_tasks.send_reminders.call_local()
    assert DeadlineReminder.select().count() == 3 + 2 * 2
    rows = OutboundEmail.select()
    assert sorted(r.recipients for r in rows) == sorted([desk.centre.email, desk.lawyer.email, "callcenter@example.it"])
    assert huey.pending_count() == 3  # one delivery each, queued after the commit
    reminder_tasks.send_reminders.call_local()
    assert DeadlineReminder.select().count() == 7 and OutboundEmail.select().count() == 3


def test_the_task_does_not_run_while_another_holds_its_lock(any_hour, desk, queue):
    claims_due_today(desk)
    with huey.lock_task("deadline-reminders"), pytest.raises(TaskLockedException):
        reminder_tasks.send_reminders.call_local()
    assert DeadlineReminder.select().count() == 0


def test_the_task_runs_every_quarter_hour(app):
    def due_at(minute):
        moment = dt.datetime(2026, 12, 2, 9, minute)
        return [t.name for t in huey.read_periodic(moment)]
    assert all("send_reminders" in due_at(minute) for minute in (0, 15, 30, 45))
    assert "send_reminders" not in due_at(7)


def test_before_the_digest_hour_the_task_records_the_reminders_and_sends_nothing(worker_app, desk, queue):
    claims_due_today(desk)
    saved = worker_app.config["REMINDER_DIGEST_HOUR"]
    worker_app.config["REMINDER_DIGEST_HOUR"] = 24  # an hour that never comes
    try:
        reminder_tasks.send_reminders.call_local()
    finally:
        worker_app.config["REMINDER_DIGEST_HOUR"] = saved
    assert DeadlineReminder.select().count() == 7
    assert OutboundEmail.select().count() == 0 and ReminderDigest.select().count() == 0


# ---- the real consumer and a real SMTP server ------------------------------------------------

RUN_LINE = "deadline reminders: "


def test_the_real_consumer_sends_one_digest_per_recipient_once_through_reruns_and_a_restart(
        app, desk, smtp, queue, tmp_path):
    soon, late = claims_due_today(desk)
    queue.flush()
    consumer = Consumer({**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "PUBLIC_URL": app.config["PUBLIC_URL"],
                         "MAIL_SERVER": smtp.host, "MAIL_PORT": str(smtp.port), "MAIL_RETRY_BASE_SECONDS": "1",
                         "REMINDER_DIGEST_HOUR": "0"}, tmp_path / "huey_consumer.log", flush_locks=True)

    def runs():
        return consumer.log_tail(10**7).count(RUN_LINE)

    try:
        consumer.start()  # a consumer that starts runs the reminders at once
        wait_for(lambda: len(smtp.messages) >= 3 and {r.status for r in OutboundEmail.select()} == {"sent"}, 60,
                 "the three digests delivered")
        wait_for(lambda: runs() >= 1, 30, "the first run logged")
        reminder_tasks.send_reminders()  # queued again, as the quarter-hour schedule does
        wait_for(lambda: runs() >= 2, 30, "the second run")
        consumer.kill()
        consumer.start()
        wait_for(lambda: runs() >= 3, 60, "the run of the restarted consumer")
        time.sleep(2)  # anything still on its way would show as a further message
    finally:
        consumer.stop()
        sys.stdout.write(f"\n--- huey_consumer log ---\n{consumer.log_tail()}\n")
    received = Counter(m.recipients for m in smtp.messages)
    assert received == Counter({(desk.centre.email,): 1, (desk.lawyer.email,): 1, ("callcenter@example.it",): 1})
    by_address = {m.recipients[0]: m for m in smtp.messages}
    centre, law, call = (by_address[a] for a in (desk.centre.email, desk.lawyer.email, "callcenter@example.it"))
    assert centre.subject == "Gessin: 3 pratiche in scadenza" and all(c.number in centre.body for c in soon)
    assert law.subject == "Gessin: 2 pratiche scadute" and all(c.number in law.body for c in late)
    assert call.subject == "Gessin: 2 pratiche scadute" and not any(c.number in call.body for c in soon)
    levels = Counter((r.claim_id, r.level, r.recipient) for r in DeadlineReminder.select())
    assert len(levels) == 7 and set(levels.values()) == {1}  # one per claim, level and recipient
    assert ReminderDigest.select().count() == 3
    log = consumer.log_tail(10**7)
    later_runs = [line for line in log.splitlines() if RUN_LINE in line][1:]
    assert later_runs and all("0 reminders recorded, 0 digests e-mailed" in line for line in later_runs), later_runs
