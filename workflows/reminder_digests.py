"""The daily digest: one e-mail per recipient and day listing every claim fallen due for it.

For each recipient with reminders not yet in a digest, one transaction creates the
recipient's `ReminderDigest` of the day first (unique on recipient and day: a second
worker meets the key and skips), attaches the waiting reminders to it and writes one
outbox e-mail per address. Reminders found after the recipient's digest of the day wait
for the next day's digest: nobody gets a second e-mail the same day.

A reminder whose claim no longer has that deadline when the digest is written (the
lawyer filed, the claim closed, the term moved) is attached but not listed; a warning
is not listed beside the breach of the same deadline. Digests go out only from
`digest_hour` (Rome time, config `REMINDER_DIGEST_HOUR`), so the night's sweeps make
one morning e-mail.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from types import SimpleNamespace

import peewee as pw

from models import AspCentre, Claim, ClaimStatus, DeadlineReminder, Lawyer, ReminderDigest, Role, User, db, utcnow

from . import clock, notify
from .next_due import DUE_SOON, OVERDUE

log = logging.getLogger("gessin.workflows")

DIGEST_HOUR = 7
LINES = 100  # claims listed in one e-mail at most; the rest are counted, with a link to the queue
QUEUE_PATHS = {OVERDUE: "/admin/queue/overdue/", DUE_SOON: "/admin/queue/due-soon/"}
TEMPLATE = "deadline_digest"


@dataclass(frozen=True)
class Line:
    claim_id: int
    number: str
    status: str
    kind: str
    due_on: dt.date
    level: str
    days: int  # past the deadline when overdue, else left before it

    @property
    def url(self) -> str:
        return notify.claim_url(SimpleNamespace(id=self.claim_id))

    @property
    def when(self) -> str:
        if self.level == OVERDUE:
            return "scaduta da 1 giorno" if self.days == 1 else f"scaduta da {self.days} giorni"
        if self.days == 0:
            return "scade oggi"
        return "scade domani" if self.days == 1 else f"scade tra {self.days} giorni"


def _waiting_recipients(day: dt.date) -> list[str]:
    """Recipients with reminders outside any digest and no digest yet on `day` (read on the
    partial index of waiting reminders: one per party, however many claims)."""
    R, D = DeadlineReminder, ReminderDigest
    done = D.select(D.recipient).where(D.day == day)
    query = (R.select(R.recipient).where(R.digest.is_null(), R.recipient.not_in(done))
             .distinct().order_by(R.recipient))
    return [row[0] for row in query.tuples()]


def addresses_of(recipient: str) -> list[str]:
    """The e-mail addresses of a recipient key (read now, so a changed address is used)."""
    kind, _, key = recipient.partition(":")
    if kind == "centre":
        found = AspCentre.select(AspCentre.email).where(AspCentre.id == int(key)).tuples()
    elif kind == "lawyer":
        found = Lawyer.select(Lawyer.email).where(Lawyer.id == int(key)).tuples()
    else:
        found = (User.select(User.email).where(User.role == Role.ADMIN, User.active == True,  # noqa: E712
                                               User.email.is_null(False), User.email != "")
                 .order_by(User.id).tuples())
    addresses: list[str] = []
    for (address,) in found:
        if address and address.lower() not in (a.lower() for a in addresses):
            addresses.append(address)
    return addresses


def name_of(recipient: str) -> str:
    kind, _, key = recipient.partition(":")
    party = (AspCentre.get_or_none(AspCentre.id == int(key)) if kind == "centre"
             else Lawyer.get_or_none(Lawyer.id == int(key)) if kind == "lawyer" else None)
    return party.name if party is not None else "Call center"


def _listed(digest_id: int) -> pw.ModelSelect:
    """The digest's reminders worth telling: the claim still has that deadline, and a
    warning is left out when the breach of the same deadline is in the digest too."""
    R, O = DeadlineReminder, DeadlineReminder.alias()
    breach = O.select(pw.SQL("1")).where(O.digest == R.digest, O.claim == R.claim, O.kind == R.kind,
                                         O.due_on == R.due_on, O.level == OVERDUE)
    return (R.select().join(Claim, on=(R.claim == Claim.id))
            .where(R.digest == digest_id, Claim.next_due_on == R.due_on, Claim.next_due_kind == R.kind,
                   Claim.status.not_in(ClaimStatus.FINAL), ~((R.level == DUE_SOON) & pw.fn.EXISTS(breach))))


def _lines(digest_id: int, day: dt.date, cap: int) -> tuple[dict[str, int], list[Line]]:
    R = DeadlineReminder
    counts = dict(_listed(digest_id).select(R.level, pw.fn.COUNT(R.id)).group_by(R.level).tuples())
    rows = (_listed(digest_id).select(Claim.id, Claim.number, Claim.status, R.kind, R.due_on, R.level)
            .order_by(R.level.desc(), R.due_on, Claim.number).limit(cap).tuples())  # overdue sorts first
    lines = []
    for claim_id, number, status, kind, due_on, level in rows:
        days = (day - due_on).days if level == OVERDUE else (due_on - day).days
        lines.append(Line(claim_id, number, status, kind, due_on, level, days))
    return counts, lines


def _create(recipient: str, day: dt.date) -> int | None:
    """The recipient's digest of `day`, or None when there is one already (another worker's)."""
    p = db.param
    row = db.execute_sql(f'INSERT INTO "reminder_digest" ("created_at", "recipient", "day", "reminders") '
                         f'VALUES ({p}, {p}, {p}, 0) ON CONFLICT DO NOTHING RETURNING "id"',
                         [utcnow(), recipient, day.isoformat()]).fetchone()
    return row[0] if row else None


def _context(recipient: str, day: dt.date, counts: dict[str, int], lines: list[Line]) -> dict:
    sections = []
    for level in (OVERDUE, DUE_SOON):
        shown = [line for line in lines if line.level == level]
        if counts.get(level):
            sections.append({"level": level, "count": counts[level], "lines": shown,
                             "more": counts[level] - len(shown), "queue_url": notify.absolute_url(QUEUE_PATHS[level])})
    return {"name": name_of(recipient), "day": day, "overdue": counts.get(OVERDUE, 0),
            "due_soon": counts.get(DUE_SOON, 0), "sections": sections, "call_centre": recipient == "callcentre"}


class DigestOutcome:
    SENT, EMPTY, NO_ADDRESS, TAKEN = "sent", "empty", "no_address", "taken"


def digest_for(recipient: str, day: dt.date, cap: int = LINES) -> str:
    """Gather `recipient`'s waiting reminders into its digest of `day`, in one transaction,
    and write its e-mail(s); a DigestOutcome."""
    R = DeadlineReminder
    with db.atomic() as transaction:
        digest_id = _create(recipient, day)
        if digest_id is None:
            return DigestOutcome.TAKEN
        attached = R.update(digest=digest_id).where(R.recipient == recipient, R.digest.is_null()).execute()
        if not attached:  # nothing waited after all: no digest, so a later reminder may still have one today
            transaction.rollback()
            return DigestOutcome.EMPTY
        counts, lines = _lines(digest_id, day, cap)
        total = sum(counts.values())
        if not total:
            log.info("reminder digest %s of %s: %d reminders, none still due", recipient, day, attached)
            return DigestOutcome.EMPTY
        addresses = addresses_of(recipient)
        if not addresses:
            log.warning("reminder digest %s of %s: %d claims to tell and no e-mail address (call centre: no active "
                        "admin user with an e-mail)", recipient, day, total)
            ReminderDigest.update(reminders=total).where(ReminderDigest.id == digest_id).execute()
            return DigestOutcome.NO_ADDRESS
        subject, body = notify.render(TEMPLATE, **_context(recipient, day, counts, lines))
        ids = notify.write([(None, address, subject, body) for address in addresses])
        ReminderDigest.update(reminders=total, email=ids[0]).where(ReminderDigest.id == digest_id).execute()
    log.info("reminder digest %s of %s: %d claims (%d overdue) to %d address(es)", recipient, day, total,
             counts.get(OVERDUE, 0), len(addresses))
    return DigestOutcome.SENT


def send_digests(today: dt.date | None = None, *, digest_hour: int = DIGEST_HOUR, now: dt.datetime | None = None,
                 cap: int = LINES) -> int:
    """Write the digest of `today` of every recipient with reminders waiting; the number of
    digests e-mailed. Before `digest_hour` (Rome time) of the current day nothing is sent."""
    now = (now or dt.datetime.now(clock.ROME)).astimezone(clock.ROME)
    today = today or now.date()
    if today >= now.date() and now.hour < digest_hour:
        return 0
    sent = 0
    for recipient in _waiting_recipients(today):
        sent += digest_for(recipient, today, cap) == DigestOutcome.SENT
        notify.flush()  # each digest's e-mails go to the sender once its transaction committed
    return sent
