"""The work queues ("Code di lavoro"): which claims each one holds, and how many a user has in each.

A queue holds the claims in some states, or the open claims whose stored next deadline
is at one level today (`next_due.level_clause`, on the indexed columns). The slugs are
the queues' addresses (`/admin/queue/<slug>/`), linked from e-mails and the dashboard:
they never change.
"""
from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass

import peewee as pw
from flask_babel import lazy_gettext as _l

from models import Claim, ClaimStatus, Role, User

from . import access, clock, next_due
from .transitions import TRANSITIONS


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str
    statuses: tuple[str, ...] = ()  # the claims in these states...
    level: str | None = None  # ...or the open claims whose next deadline is at this level today

    def clause(self, today: dt.date | None = None) -> pw.Expression:
        """The claims in the queue, as a condition (today's date matters for a level's queue)."""
        if self.level is not None:
            return Claim.status.in_(next_due.OPEN) & next_due.level_clause(self.level, today)
        return Claim.status.in_(self.statuses)


S = ClaimStatus
QUEUES = (
    Queue("to-validate", _l("Da validare"), statuses=(S.RECEIVED,)),
    Queue("incomplete", _l("Incomplete"), statuses=(S.INCOMPLETE,)),
    Queue("to-assign", _l("Da affidare"), statuses=(S.VALIDATED,)),
    Queue("assigned", _l("Affidate"), statuses=(S.ASSIGNED,)),
    Queue("awaiting-offer", _l("In attesa di offerta"), statuses=(S.FILED,)),
    Queue("partially-reimbursed", _l("Rimborso parziale"), statuses=(S.PARTIALLY_REIMBURSED,)),
    Queue("closed", _l("Chiuse"), statuses=S.FINAL),
    Queue("due-soon", _l("In scadenza"), level=next_due.DUE_SOON),
    Queue("overdue", _l("Scadute"), level=next_due.OVERDUE),
)
BY_SLUG = {queue.slug: queue for queue in QUEUES}
# The states a lawyer's files can be in: entrusted to it, and after.
LAWYER_STATES = (S.ASSIGNED, S.FILED, S.PARTIALLY_REIMBURSED) + S.FINAL


def offers(queue: Queue, event: str) -> bool:
    """Whether a bulk `event` can apply to the claims of `queue` (a deadline level's queue holds any open state)."""
    t = TRANSITIONS.get(event)
    return t is None or not queue.statuses or bool(set(t.sources) & set(queue.statuses))


def can_hold_files_of(queue: Queue, user: User) -> bool:
    """Whether `queue` can ever list a claim of `user`'s: a lawyer's menu leaves out the queues
    before entrusting (its files are never there)."""
    if user.role == Role.LAWYER and queue.level is None:
        return bool(set(queue.statuses) & set(LAWYER_STATES))
    return True
assert len(BY_SLUG) == len(QUEUES), "a queue's slug is its address: one per queue"


def level_counts(user: User, levels, today: dt.date | None = None) -> dict[str, int]:
    """Open claims `user` may see at each of `levels` today, in one statement.

    The WHERE keeps only the claims at one of them (a range of the deadline indexes, not
    every claim); a SUM(CASE ...) per level splits them."""
    today = today or clock.today()
    clauses = {level: next_due.level_clause(level, today) for level in levels}
    if not clauses:
        return {}
    sums = [pw.fn.SUM(pw.Case(None, [(clause, 1)], 0)) for clause in clauses.values()]
    row = (access.visible_claims(user, *sums)
           .where(Claim.status.in_(next_due.OPEN), functools.reduce(operator.or_, clauses.values()))
           .tuples().first()) or (None,) * len(sums)
    return {level: int(total or 0) for level, total in zip(clauses, row)}


def counts(user: User, today: dt.date | None = None) -> dict[str, int]:
    """Claims `user` may see in each queue, by slug: one GROUP BY status, one SUM per level."""
    by_status = access.status_counts(user)
    by_level = level_counts(user, [queue.level for queue in QUEUES if queue.level is not None], today)
    return {queue.slug: by_level[queue.level] if queue.level is not None
            else sum(by_status.get(status, 0) for status in queue.statuses)
            for queue in QUEUES}
