"""The data of `bulk.py`: the parties, sets of fresh validated claims, the check that an
action entrusted them all as the product must, and the benchmark's own task queue.

Imported by `bulk.py` once it has set the environment the app reads on import.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import time

import peewee as pw
from huey.storage import RedisStorage
from redis.exceptions import RedisError

import tasks
from common import shown
from models import (
    Claim,
    ClaimCounter,
    ClaimStatus,
    OutboundEmail,
    OutboundMessage,
    QueueLimit,
    ReminderDue,
    Role,
    StatusChange,
    db,
    is_postgres,
    utcnow,
)
from tests import factories
from workflows import clock
from workflows.parties import ensure_own_desk

BENCH_QUEUE = "gessin-bench"
LOAD_BATCH = 500
EVENT = "assign"
S = ClaimStatus


def prepare_queue() -> str:
    """The app's task queue, emptied; on Redis under a queue name of the benchmark's own,
    so a running worker never gets (nor loses) a task. Returns a description."""
    huey = tasks.huey
    if isinstance(huey.storage, RedisStorage):
        huey.name = BENCH_QUEUE
        huey.storage = huey.create_storage()
        try:
            huey.storage.conn.ping()
        except RedisError as exc:
            sys.exit(f"error: Redis not reachable at {shown(os.environ.get('REDIS_URL', ''))}: {exc}")
        label = f"RedisHuey {shown(os.environ['REDIS_URL'])}, queue key {huey.storage.queue_key}"
    else:
        label = f"{type(huey).__name__} {huey.storage.filename}"
    huey.storage.flush_queue()
    return label


def seed_parties() -> dict:
    """A centre with its own desk, a lawyer working for it, a repairer, an insurer and
    the centre's manager."""
    centre = factories.centre()
    desk = ensure_own_desk(centre)
    lawyer = factories.lawyer(centre)  # with its LawyerCentre row
    repairer = factories.repairer()
    insurer = factories.insurer()
    manager = factories.user(Role.ASP_MANAGER, login="bench-manager", asp_centre=centre)
    return {
        "centre": centre.id, "desk": desk.id, "lawyer": lawyer.id, "repairer": repairer.id,
        "insurer": insurer.id, "manager": manager,
        "emails": {repairer.email, centre.email, lawyer.email}, "seq": 0,
    }


def load_claims(n: int, parties: dict) -> tuple[list[int], float]:
    """Insert `n` fresh claims in state `validated`, then ANALYZE (VACUUM ANALYZE on
    PostgreSQL); returns their ids and the seconds it took."""
    started = time.perf_counter()
    now = utcnow().replace(microsecond=0)
    year, first = now.year, parties["seq"] + 1
    before = Claim.select(pw.fn.MAX(Claim.id)).scalar() or 0
    rows = []
    for seq in range(first, first + n):
        received = now - dt.timedelta(minutes=first + n - seq)
        rows.append(dict(
            number=f"{year}/{seq:06d}", source="web", received_at=received, repairer=parties["repairer"],
            asp_centre=parties["centre"], insurer=parties["insurer"], status=S.VALIDATED,
            status_since=received + dt.timedelta(seconds=30), version=1, customer_name=f"Cliente {seq}",
            accident_date=(received - dt.timedelta(days=3)).date(), vehicle_a_plate=factories.plate(),
            vehicle_b_plate=factories.plate(), complete_since=received.date(), created_at=received,
            updated_at=received,
        ))
    with db.atomic():
        for start in range(0, n, LOAD_BATCH):
            Claim.insert_many(rows[start:start + LOAD_BATCH]).execute()
        last = first + n - 1
        (ClaimCounter.insert(year=year, last=last)  # so a claim opened later gets the next number
         .on_conflict(conflict_target=[ClaimCounter.year], update={ClaimCounter.last: last}).execute())
    parties["seq"] = last
    # PostgreSQL: VACUUM too, so autovacuum does not start in the middle of the timings.
    db.execute_sql("VACUUM ANALYZE" if is_postgres() else "ANALYZE")
    ids = [row.id for row in Claim.select(Claim.id).where(Claim.id > before).order_by(Claim.id)]
    if len(ids) != n or ids[-1] - ids[0] + 1 != n:
        raise RuntimeError(f"loaded {len(ids)} claims, not {n} consecutive ones")
    return ids, time.perf_counter() - started


def check_outcome(ids: list[int], parties: dict, batch: int | None) -> None:
    """All the claims entrusted to the lawyer, with their next deadline and reminder day
    (the queue limit of Affidata from today), their history rows and e-mails: one per party
    and `batch` of claims (`apply_many`, the grid's action run in the request), or with
    `batch` None one per party (a job, which tells once when it ends, and the floor)."""
    n, lo, hi = len(ids), ids[0], ids[-1]
    with db.connection_context():
        states = dict(Claim.select(Claim.status, pw.fn.COUNT(Claim.id)).where(Claim.id.between(lo, hi))
                      .where(Claim.lawyer == parties["lawyer"]).group_by(Claim.status).tuples())
        history = (StatusChange.select().where(StatusChange.claim.between(lo, hi), StatusChange.event == EVENT,
                                               StatusChange.to_status == S.ASSIGNED).count())
        seen = parties.get("outbox_seen", 0)  # the e-mails of this action
        emails = dict(OutboundEmail.select(OutboundEmail.recipients, pw.fn.COUNT(OutboundEmail.id))
                      .where(OutboundEmail.id > seen).group_by(OutboundEmail.recipients).tuples())
        texts = (OutboundMessage.select().join(OutboundEmail).where(OutboundEmail.id > seen)
                 .distinct().count())
        parties["outbox_seen"] = OutboundEmail.select(pw.fn.MAX(OutboundEmail.id)).scalar() or seen
        limit = QueueLimit.get(QueueLimit.status == S.ASSIGNED)  # the claims' next deadline, from today
        due, warn = (clock.today() + dt.timedelta(days=days) for days in (limit.breach_days, limit.warning_days))
        on_time = (Claim.select().where(Claim.id.between(lo, hi), Claim.next_due_on == due,
                                        Claim.next_due_kind == "queue", Claim.next_warn_on == warn).count())
        reminders = (ReminderDue.select().where(ReminderDue.claim.between(lo, hi), ReminderDue.remind_on == warn,
                                                ReminderDue.due_on == due, ReminderDue.warn_on == warn).count())
    if states != {S.ASSIGNED: n}:
        raise RuntimeError(f"expected {n} claims assigned to lawyer #{parties['lawyer']}, found {states}")
    if history != n:
        raise RuntimeError(f"expected {n} history rows, found {history}")
    if (on_time, reminders) != (n, n):
        raise RuntimeError(f"expected {n} claims due on {due} (warned on {warn}) with a reminder that day; "
                           f"found {on_time} claims, {reminders} reminders")
    batches = -(-n // batch) if batch else 1
    expected = {address: batches for address in parties["emails"]}
    if emails != expected:
        raise RuntimeError(f"expected {batches} e-mail(s), one per batch, to each of {sorted(expected)}; "
                           f"found {emails}")
    if texts != batches:  # the three parties are told about the same claims: one text
        raise RuntimeError(f"expected {batches} stored text(s), one per batch shared by the parties; found {texts}")


def empty_queue() -> None:
    """Drop the queued deliveries (and jobs): nothing is ever sent."""
    tasks.huey.storage.flush_queue()
    if tasks.huey.pending_count():
        raise RuntimeError("the task queue could not be emptied")
