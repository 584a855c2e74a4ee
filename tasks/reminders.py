"""Deadline reminders every 15 minutes, and the recompute after a queue limit changed.

`send_reminders` holds a huey lock, then runs the sweep and the daily digests
(workflows/reminders.py) in the app. Running it twice, on two workers or after a
restart, sends nothing twice: the reminders' and the digests' unique keys decide, not
the lock, which only saves the work. A consumer killed while holding the lock leaves it
behind: production starts the consumer with `--flush-locks` (Procfile). A consumer that
starts queues one run at once, so a restart does not wait for the next quarter hour.
"""
from __future__ import annotations

import logging

from huey import crontab

from workflows import notify, queue_limits, reminders

from . import database, flask_app, huey, workers

log = logging.getLogger("gessin.reminders")

reminders_lock = huey.lock_task("deadline-reminders")


def run(app) -> tuple[reminders.SweepResult, int]:
    """One sweep, then the digests of the day (from the configured hour)."""
    with app.app_context(), database():
        found = reminders.sweep()
        sent = reminders.send_digests(digest_hour=app.config["REMINDER_DIGEST_HOUR"])
    notify.flush()
    log.info("deadline reminders: %d claims due, %d reminders recorded, %d digests e-mailed",
             found.claims, found.reminders, sent)
    return found, sent


@huey.periodic_task(crontab(minute="*/15"))
@reminders_lock
def send_reminders() -> None:
    """Returns nothing: huey keeps no result of a periodic task, and none is needed."""
    run(flask_app())


@workers.on_start
def remind_after_restart() -> None:
    send_reminders()


@huey.task(retries=5, retry_delay=60)
def recompute_after_limit(*statuses: str) -> None:
    """The next deadline of every claim in `statuses`, after the call centre changed a
    queue limit (at a million claims too long for the web request that saved it). Safe
    to run twice: a claim already in line is not written again; so a failed run (the
    database busy or away) is tried again, a minute later, rather than lost."""
    app = flask_app()
    with app.app_context(), database():
        changed = queue_limits.limit_changed(*statuses)
    log.info("queue limit of %s changed: %d claims' next deadline recomputed", ", ".join(statuses), changed)
