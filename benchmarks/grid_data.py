"""The claims the grid benchmark loads (`benchmarks/grid.py`): 3 centres, 12 body shops,
6 lawyers, 8 insurers, and N claims over two years, their states weighted by age, each
open one with the next deadline workflows/next_due.py would store, and the "overdue"
reminders of those past it; loaded with `insert_many` in batches, then ANALYZE."""
from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal

from models import Claim, ClaimCounter, ClaimStatus, DeadlineReminder, Lawyer, Role, db, is_postgres, utcnow
from tests import factories
from workflows import clock, next_due

S = ClaimStatus
# State weights by the claim's age: new claims are still open, old ones mostly closed.
STATUS_WEIGHTS = (
    (30, {S.RECEIVED: 25, S.INCOMPLETE: 20, S.VALIDATED: 20, S.ASSIGNED: 20, S.FILED: 10, S.DROPPED: 5}),
    (180, {S.INCOMPLETE: 5, S.VALIDATED: 5, S.ASSIGNED: 15, S.FILED: 35, S.PARTIALLY_REIMBURSED: 15,
           S.REIMBURSED: 15, S.CLOSED: 5, S.DROPPED: 5}),
    (None, {S.FILED: 5, S.PARTIALLY_REIMBURSED: 5, S.REIMBURSED: 40, S.CLOSED: 40, S.DROPPED: 9, S.CANCELLED: 1}),
)
assert set().union(*(w for _, w in STATUS_WEIGHTS)) == set(S.ALL), "every state must be loaded"

FIRST_NAMES = ("Mario", "Luca", "Giulia", "Francesca", "Marco", "Anna", "Paolo", "Sara", "Andrea",
               "Chiara", "Giuseppe", "Elena", "Stefano", "Laura", "Alessandro", "Valentina")
LAST_NAMES = ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
              "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano")
PLATE_LETTERS = "ABCDEFGHJKLMNPRSTVWXYZ"

CLAIM_FIELDS = (
    Claim.number, Claim.source, Claim.wincar_ref, Claim.received_at, Claim.repairer, Claim.asp_centre,
    Claim.lawyer, Claim.insurer, Claim.status, Claim.status_since, Claim.version, Claim.customer_name,
    Claim.accident_date, Claim.vehicle_count, Claim.vehicle_a_plate, Claim.vehicle_a_country,
    Claim.vehicle_a_insurer, Claim.vehicle_b_plate, Claim.vehicle_b_country, Claim.injuries,
    Claim.signed_by_both, Claim.estimate_amount, Claim.closed_at, Claim.created_at, Claim.updated_at,
    Claim.next_due_on, Claim.next_due_kind, Claim.next_warn_on,
)
REMINDER_FIELDS = (DeadlineReminder.claim, DeadlineReminder.kind, DeadlineReminder.due_on, DeadlineReminder.level,
                   DeadlineReminder.recipient, DeadlineReminder.found_on)
# Days a claim may stay in each state before its queue limit is breached (as a call centre sets them).
QUEUE_DAYS = {S.RECEIVED: 2, S.INCOMPLETE: 15, S.VALIDATED: 2, S.ASSIGNED: 10}



def seed_parties() -> dict:
    """3 centres (with their own desks), 12 repairers, 6 lawyers, 8 insurers; an admin and
    the manager of the first centre."""
    centres = [factories.centre() for _ in range(3)]
    lawyers = [factories.lawyer(*centres) for _ in range(6)]
    desks = {c.id: Lawyer.get(Lawyer.own_centre == c).id for c in centres}
    repairers = [factories.repairer() for _ in range(12)]
    insurers = [factories.insurer() for _ in range(8)]
    users = {"admin": factories.user(Role.ADMIN, login="bench-admin"),
             "manager": factories.user(Role.ASP_MANAGER, login="bench-manager", asp_centre=centres[0])}
    return {
        "centres": [c.id for c in centres],
        "repairers": [r.id for r in repairers],
        "repairer_centre": {r.id: centres[i % len(centres)].id for i, r in enumerate(repairers)},
        "lawyers": [law.id for law in lawyers],
        "desks": desks,
        "insurers": [i.id for i in insurers],
        "users": users,
    }


def pick_status(rng: random.Random, age_days: int) -> str:
    for max_age, weights in STATUS_WEIGHTS:
        if max_age is None or age_days < max_age:
            return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]
    raise AssertionError("unreachable")


def plate(rng: random.Random) -> str:
    letters = PLATE_LETTERS
    return (rng.choice(letters) + rng.choice(letters) + f"{rng.randrange(1000):03d}"
            + rng.choice(letters) + rng.choice(letters))


def next_deadline(rng: random.Random, status: str, since: dt.datetime, accident: dt.date):
    """(due, kind, warn) of an open claim, as workflows/next_due.py would store it: the
    queue limit of an early state, else the offer term, now and then the payment term or
    the prescription; (None, None, None) for a closed claim."""
    if status in S.FINAL:
        return None, None, None
    if status in QUEUE_DAYS:
        days = QUEUE_DAYS[status]
        due = since.date() + dt.timedelta(days=days)
        return due, next_due.QUEUE, due - dt.timedelta(days=max(1, days // 3))
    pick = rng.random()
    if pick < 0.1:
        due, kind = accident + dt.timedelta(days=730), "prescription"
    elif pick < 0.25:
        due, kind = since.date() + dt.timedelta(days=15), "payment"
    else:
        due, kind = since.date() + dt.timedelta(days=60), "offer"
    return due, kind, due - dt.timedelta(days=next_due.LEGAL_WARNING_DAYS)


def claim_row(rng: random.Random, parties: dict, number: str, seq: int, received: dt.datetime,
              now: dt.datetime) -> tuple:
    """One claim as a tuple in CLAIM_FIELDS order."""
    age = (now - received).days
    status = pick_status(rng, age)
    since = received + dt.timedelta(seconds=rng.randrange(max(1, int((now - received).total_seconds()))))
    repairer = rng.choice(parties["repairers"])
    centre = parties["repairer_centre"][repairer]
    early = status in (S.RECEIVED, S.INCOMPLETE, S.VALIDATED)
    lawyer = None if early else (parties["desks"][centre] if rng.random() < 0.3 else rng.choice(parties["lawyers"]))
    insurer = None if status == S.RECEIVED else rng.choice(parties["insurers"])
    wincar = rng.random() < 0.4
    accident = (received - dt.timedelta(days=rng.randrange(30))).date()
    return (
        number, "wincar" if wincar else "web", f"WC{seq:08d}" if wincar else None, received,
        repairer, centre, lawyer, insurer, status, since, rng.randint(1, 6),
        f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        accident, 2, plate(rng), "I",
        rng.choice(parties["insurers"]), plate(rng), "I", rng.random() < 0.08, rng.random() < 0.7,
        Decimal(rng.randrange(30_000, 900_000)).scaleb(-2), since if status in S.FINAL else None,
        received, since, *next_deadline(rng, status, since, accident),
    )


def claim_batches(n: int, parties: dict, batch_size: int, counters: dict, seed: int = 20260101):
    """Lists of claim tuples, received over two years in order, numbered per year.

    `counters` receives the last number of each year, for the claim_counter table.
    """
    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    span = 2 * 365 * 86_400
    offsets = sorted(rng.sample(range(span), n), reverse=True)  # distinct received times
    batch = []
    for i, offset in enumerate(offsets):
        received = now - dt.timedelta(seconds=offset + 60)
        counters[received.year] = counters.get(received.year, 0) + 1
        number = f"{received.year}/{counters[received.year]:06d}"
        batch.append(claim_row(rng, parties, number, i, received, now))
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def reminder_rows(rng: random.Random, claim_id: int, centre: int, received: dt.datetime, due: dt.date | None,
                  today: dt.date):
    """The "overdue" reminders of one claim, one per recipient (the call centre and its centre):
    for an open claim past its deadline, the day after it; for one claim in four, an earlier
    breach at some point of its life."""
    breaches = []
    if due is not None and due < today and rng.random() < 0.8:
        breaches.append((due, due + dt.timedelta(days=1)))
    if rng.random() < 0.25:
        found = received.date() + dt.timedelta(days=rng.randrange(3, 90))
        if found <= today and all(d != found - dt.timedelta(days=1) for d, _ in breaches):
            breaches.append((found - dt.timedelta(days=1), found))
    for due_on, found_on in breaches:
        for recipient in ("callcentre", f"centre:{centre}"):
            yield (claim_id, next_due.QUEUE, due_on, next_due.OVERDUE, recipient, found_on)


def load_reminders(parties: dict, seed: int = 20260102) -> int:
    """Reminders for the loaded claims (read back by id); returns how many rows."""
    rng, today, total = random.Random(seed), clock.today(), 0
    rows = list(Claim.select(Claim.id, Claim.asp_centre, Claim.received_at, Claim.next_due_on)
                .order_by(Claim.id).tuples())
    batch_size = 5000 if is_postgres() else 30_000 // len(REMINDER_FIELDS)
    batch = []
    for claim_id, centre, received, due in rows:
        batch.extend(reminder_rows(rng, claim_id, centre, received, due, today))
        if len(batch) >= batch_size:
            with db.atomic():
                DeadlineReminder.insert_many(batch, fields=REMINDER_FIELDS).execute()
            total, batch = total + len(batch), []
    if batch:
        with db.atomic():
            DeadlineReminder.insert_many(batch, fields=REMINDER_FIELDS).execute()
        total += len(batch)
    return total


def load_claims(n: int, parties: dict) -> tuple[float, float]:
    """Insert `n` claims and their reminders, then ANALYZE; returns (insert seconds, analyze seconds)."""
    batch_size = 5000 if is_postgres() else 30_000 // len(CLAIM_FIELDS)  # SQLite: 32766 parameters
    counters: dict[int, int] = {}
    started = time.perf_counter()
    for batch in claim_batches(n, parties, batch_size, counters):
        with db.atomic():
            Claim.insert_many(batch, fields=CLAIM_FIELDS).execute()
    for year, last in counters.items():  # so a claim opened later gets the next number
        ClaimCounter.insert(year=year, last=last).execute()
    parties["reminders"] = load_reminders(parties)
    inserted = time.perf_counter()
    # PostgreSQL: VACUUM too, as autovacuum would soon do, so index-only scans work
    # and autovacuum does not start in the middle of the timings.
    db.execute_sql("VACUUM ANALYZE" if is_postgres() else "ANALYZE")
    return inserted - started, time.perf_counter() - inserted


