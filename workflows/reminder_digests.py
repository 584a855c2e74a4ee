"""The daily digest: one e-mail per recipient and day listing every claim fallen due for it.

For each recipient with reminders not yet in a digest, one savepoint creates the
recipient's `ReminderDigest` of the day first (unique on recipient and day: a second
worker meets the key and skips), attaches the waiting reminders to it and writes one
outbox e-mail per address; the digests of up to `GROUP` recipients commit together, and
one that fails is rolled back alone, its reminders waiting for the next run. Reminders found after the recipient's digest of the day wait
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

from models import AspCentre, ClaimStatus, DeadlineReminder, Lawyer, ReminderDigest, Role, User, db, is_postgres, utcnow

from . import clock, notify
from .next_due import DUE_SOON, OVERDUE

CALL_CENTRE = "callcentre"  # the recipient key of the call centre (workflows/reminders.py)

log = logging.getLogger("gessin.workflows")

DIGEST_HOUR = 7
GROUP = 50  # digests per transaction: a commit (and its fsync) per group, each digest in its own savepoint
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
    """Recipients with reminders outside any digest and no digest yet on `day` (the partial
    index of waiting reminders, and the digests' unique key: nothing grows with the past)."""
    p = db.param
    rows = db.execute_sql(
        'SELECT DISTINCT r."recipient" FROM "deadline_reminder" AS r WHERE r."digest_id" IS NULL AND NOT EXISTS '
        f'(SELECT 1 FROM "reminder_digest" AS d WHERE d."recipient" = r."recipient" AND d."day" = {p}) '
        'ORDER BY r."recipient"', [day.isoformat()]).fetchall()
    return [recipient for (recipient,) in rows]


class Directory:
    """Names and e-mail addresses of the recipients, read once per run of the digests
    (a few queries for every party, rather than two per digest); read at the time of the
    digest, so a changed address is the one used."""

    def __init__(self):
        self.names = {f"centre:{i}": name for i, name in AspCentre.select(AspCentre.id, AspCentre.name).tuples()}
        self.names.update({f"lawyer:{i}": name for i, name in Lawyer.select(Lawyer.id, Lawyer.name).tuples()})
        self.emails = {f"centre:{i}": [email] for i, email in AspCentre.select(AspCentre.id, AspCentre.email).tuples()}
        self.emails.update({f"lawyer:{i}": [email] for i, email in Lawyer.select(Lawyer.id, Lawyer.email).tuples()})
        admins = (User.select(User.email).where(User.role == Role.ADMIN, User.active == True,  # noqa: E712
                                                User.email.is_null(False), User.email != "").order_by(User.id))
        self.emails[CALL_CENTRE] = [email for (email,) in admins.tuples()]

    def name(self, recipient: str) -> str:
        return self.names.get(recipient, "Call center")

    def addresses(self, recipient: str) -> list[str]:
        """Each address once, whatever its case."""
        addresses: list[str] = []
        for address in self.emails.get(recipient, []):
            if address and address.lower() not in (a.lower() for a in addresses):
                addresses.append(address)
        return addresses


def _lines_sql(p: str) -> str:
    """The digest's reminders worth telling, the first `cap` of them, each row with the
    digest's totals (window functions: one query). Worth telling: the claim still has that
    deadline and is open, and a warning is left out once the recipient has the breach of
    the same deadline (found by the reminders' unique key, never a scan of past reminders).
    Written as SQL text: peewee would build it node by node again for every digest."""
    final = ", ".join(f"'{s}'" for s in ClaimStatus.FINAL)
    return (
        'SELECT c."id", c."number", c."status", r."kind", r."due_on", r."level", COUNT(*) OVER (), '
        f"SUM(CASE WHEN r.\"level\" = '{OVERDUE}' THEN 1 ELSE 0 END) OVER () "
        'FROM "deadline_reminder" AS r JOIN "claim" AS c ON c."id" = r."claim_id" '
        'LEFT JOIN "deadline_reminder" AS o ON o."claim_id" = r."claim_id" AND o."kind" = r."kind" '
        f"AND o.\"due_on\" = r.\"due_on\" AND o.\"level\" = '{OVERDUE}' AND o.\"recipient\" = r.\"recipient\" "
        f"AND r.\"level\" = '{DUE_SOON}' "
        f'WHERE r."digest_id" = {p} AND o."id" IS NULL AND c."next_due_on" = r."due_on" '
        f'AND c."next_due_kind" = r."kind" AND c."status" NOT IN ({final}) '
        f'ORDER BY r."level" DESC, r."due_on", c."number" LIMIT {p}')  # overdue sorts first


def _lines(digest_id: int, day: dt.date, cap: int) -> tuple[dict[str, int], list[Line]]:
    rows = db.execute_sql(_lines_sql(db.param), [digest_id, cap]).fetchall()
    total, overdue = (int(rows[0][6]), int(rows[0][7] or 0)) if rows else (0, 0)
    lines = []
    for claim_id, number, status, kind, due_on, level, _total, _overdue in rows:
        due_on = dt.date.fromisoformat(due_on) if isinstance(due_on, str) else due_on
        days = (day - due_on).days if level == OVERDUE else (due_on - day).days
        lines.append(Line(claim_id, number, status, kind, due_on, level, days))
    return {OVERDUE: overdue, DUE_SOON: total - overdue}, lines


def _create(recipient: str, day: dt.date) -> int | None:
    """The recipient's digest of `day`, or None when there is one already (another worker's)."""
    p = db.param
    row = db.execute_sql(f'INSERT INTO "reminder_digest" ("created_at", "recipient", "day", "reminders") '
                         f'VALUES ({p}, {p}, {p}, 0) ON CONFLICT DO NOTHING RETURNING "id"',
                         [utcnow(), recipient, day.isoformat()]).fetchone()
    return row[0] if row else None


def _attach(digest_id: int, recipient: str) -> int:
    p = db.param
    return db.execute_sql(f'UPDATE "deadline_reminder" SET "digest_id" = {p} WHERE "recipient" = {p} '
                          'AND "digest_id" IS NULL', [digest_id, recipient]).rowcount


def _context(recipient: str, name: str, day: dt.date, counts: dict[str, int], lines: list[Line]) -> dict:
    sections = []
    for level in (OVERDUE, DUE_SOON):
        shown = [line for line in lines if line.level == level]
        if counts.get(level):
            sections.append({"level": level, "count": counts[level], "lines": shown,
                             "more": counts[level] - len(shown), "queue_url": notify.absolute_url(QUEUE_PATHS[level])})
    return {"name": name, "day": day, "overdue": counts.get(OVERDUE, 0),
            "due_soon": counts.get(DUE_SOON, 0), "sections": sections, "call_centre": recipient == CALL_CENTRE}


class DigestOutcome:
    SENT, EMPTY, NO_ADDRESS, TAKEN = "sent", "empty", "no_address", "taken"


def digest_for(recipient: str, day: dt.date, cap: int = LINES, directory: Directory | None = None) -> str:
    """Gather `recipient`'s waiting reminders into its digest of `day` and write its
    e-mail(s), all or nothing (a transaction, or a savepoint inside the caller's); a DigestOutcome."""
    directory = directory or Directory()
    with db.atomic() as transaction:
        if is_postgres():
            # The lines' query reads a few hundred rows by index; a parallel plan (which the
            # planner picks on its row estimates for a digest) costs more to start its
            # workers than it saves, once per digest. Until the transaction ends.
            db.execute_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        digest_id = _create(recipient, day)
        if digest_id is None:
            return DigestOutcome.TAKEN
        attached = _attach(digest_id, recipient)
        if not attached:  # nothing waited after all: no digest, so a later reminder may still have one today
            transaction.rollback()
            return DigestOutcome.EMPTY
        counts, lines = _lines(digest_id, day, cap)
        total = sum(counts.values())
        if not total:
            log.info("reminder digest %s of %s: %d reminders, none still due", recipient, day, attached)
            return DigestOutcome.EMPTY
        addresses = directory.addresses(recipient)
        if not addresses:
            log.warning("reminder digest %s of %s: %d claims to tell and no e-mail address (call centre: no active "
                        "admin user with an e-mail)", recipient, day, total)
            _finish(digest_id, total, None)
            return DigestOutcome.NO_ADDRESS
        context = _context(recipient, directory.name(recipient), day, counts, lines)
        subject, body = notify.render(TEMPLATE, **context)
        ids = notify.write([(None, addresses, subject, body)])
        _finish(digest_id, total, ids[0])
    log.info("reminder digest %s of %s: %d claims (%d overdue) to %d address(es)", recipient, day, total,
             counts[OVERDUE], len(addresses))
    return DigestOutcome.SENT


def _finish(digest_id: int, total: int, email_id: int | None) -> None:
    p = db.param
    db.execute_sql(f'UPDATE "reminder_digest" SET "reminders" = {p}, "email_id" = {p} WHERE "id" = {p}',
                   [total, email_id, digest_id])


def send_digests(today: dt.date | None = None, *, digest_hour: int = DIGEST_HOUR, now: dt.datetime | None = None,
                 cap: int = LINES) -> int:
    """Write the digest of `today` of every recipient with reminders waiting; the number of
    digests e-mailed. Before `digest_hour` (Rome time) of the current day nothing is sent."""
    now = (now or dt.datetime.now(clock.ROME)).astimezone(clock.ROME)
    today = today or now.date()
    if today >= now.date() and now.hour < digest_hour:
        return 0
    sent, waiting = 0, _waiting_recipients(today)
    directory = Directory() if waiting else None
    for start in range(0, len(waiting), GROUP):
        try:
            with db.atomic():  # one commit per group of digests; each digest alone in its savepoint
                for recipient in waiting[start:start + GROUP]:
                    try:
                        sent += digest_for(recipient, today, cap, directory) == DigestOutcome.SENT
                    except Exception:  # noqa: BLE001 - one recipient's failure must not keep the others' digests
                        log.exception("reminder digest %s of %s not written: its reminders wait for the next run",
                                      recipient, today)
        except Exception:
            notify.discard()  # the group rolled back: its e-mails' rows are gone
            raise
        notify.flush()  # the group's e-mails go to the sender once it committed
    return sent
