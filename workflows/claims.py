"""Opening a claim file: its portal number, first state and first history row."""
from __future__ import annotations

import logging

from models import Claim, ClaimStatus, StatusChange, User, allocate_number, db, insert_row, utcnow

from . import deadline_store, next_due, notify, who_pays

log = logging.getLogger("gessin.workflows")

OPEN_EVENT = "open"


def actor_label(user: User | None, fallback: str = "WinCar") -> str:
    return str(user) if user is not None else fallback


def open_claim(claim: Claim, actor: User | None, source: str = "web", note: str | None = None) -> Claim:
    """Save a new claim as Ricevuta with the next portal number, in one transaction.

    The portal's verdict on direct compensation and the debtor insurer are set from the
    claim's facts (`who_pays.reassess`): a debtor chosen in the form that departs from the
    procedure's is kept as chosen by hand.
    """
    now = utcnow()
    with db.transaction():  # joins a caller's transaction (an intake) without a savepoint
        claim.number = allocate_number(now.year)
        claim.source = source
        claim.received_at = now
        claim.status = ClaimStatus.RECEIVED
        claim.status_since = now
        claim.version = 1
        who_pays.reassess(claim, chosen=claim.insurer_id)  # the verdict and debtor its facts give
        deadline = next_due.columns_after(claim, {})
        for field, value in next_due.claim_columns(deadline).items():
            setattr(claim, field.name, value)
        claim.validate()  # what `save()` checks, before the INSERT that does not
        claim.check_unique()
        insert_row(claim)
        deadline_store.schedule_after(claim.id, deadline)
        insert_row(StatusChange(
            claim=claim, at=now, actor=actor, actor_label=actor_label(actor),
            event=OPEN_EVENT, from_status=None, to_status=ClaimStatus.RECEIVED, note=note,
        ))
        messages = [([claim.repairer.email], "new_claim_repairer", {})]
        if claim.asp_centre.email.lower() != claim.repairer.email.lower():
            messages.append(([claim.asp_centre.email], "new_claim_centre", {}))
        notify.queue_each(claim, messages)
    notify.flush()
    log.info("claim %s opened by %s (source %s)", claim.number, actor_label(actor), source)
    return claim
