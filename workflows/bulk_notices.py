"""What a bulk job tells the parties of its claims: once, when it ends.

A job runs in batches of `BULK_BATCH_SIZE`, each in its own transaction; telling the
parties batch by batch would send a lawyer entrusted 2,000 claims four e-mails. So each
batch records, in its own transaction, the claims it changed as they stand after the
change (`holder`: a `BulkNotice` row each, written by one INSERT ... SELECT), and the end
of the job, in the transaction that marks it done or failed, tells each party once of all
its claims and removes the rows (`tell`).

A job taken over by another worker goes on adding to the same rows. A job that fails or
is given up tells what it changed so far, since those changes are real; resumed, it tells
the rest when it ends.
"""
from __future__ import annotations

import logging

import peewee as pw

from models import AspCentre, BulkJob, BulkNotice, Claim, Lawyer, Repairer, User, db, utcnow

from . import bulk, notify

log = logging.getLogger("gessin.workflows")

N = BulkNotice
HELD = (N.created_at, N.job, N.claim, N.status, N.repairer_id, N.asp_centre_id, N.lawyer_id, N.note)
CHUNK = 500  # claims per INSERT ... SELECT, as a batch's UPDATE


def holder(job_id: int) -> bulk.Tell:
    """The `tell` of `bulk.apply_many` for job `job_id`: a batch's changed claims recorded
    in its transaction, to be told when the job ends."""
    def hold(event: str, changes, user: User) -> None:
        ids = [claim.id for claim, _ in changes]
        note = next((change.note for _, change in changes if change.note), None)
        now = pw.Value(utcnow(), converter=N.created_at.db_value)
        for first in range(0, len(ids), CHUNK):
            part = ids[first:first + CHUNK]
            N.insert_from(Claim.select(now, pw.Value(job_id), Claim.id, Claim.status, Claim.repairer,
                                       Claim.asp_centre, Claim.lawyer, pw.Value(note))
                          .where(bulk.among(part)), HELD).execute()
    return hold


def tell(job_id: int) -> int:
    """Tell each party of the job's held claims once, in the caller's transaction, and
    forget them; the e-mails go once it commits (`notify.flush`). Returns the claims told."""
    job = BulkJob.select(BulkJob.id, BulkJob.event, BulkJob.user).where(BulkJob.id == job_id).first()
    if job is None:
        return 0
    claims, note = _held(job_id)
    if claims:
        bulk.queue_emails(job.event, claims, User.get_by_id(job.user_id), note)
        N.delete().where(N.job == job_id).execute()
    return len(claims)


def tell_or_keep(job_id: int) -> int:
    """`tell`, for a job that ends on an error or is given up: if telling fails too, the job
    still ends (in the caller's transaction) and its claims stay held, to be told when it is
    resumed and ends. A job always ends, and no claim it changed goes untold."""
    try:
        with db.atomic():  # a savepoint: what telling wrote goes, the job's end stays
            return tell(job_id)
    except Exception:
        notify.discard()
        log.exception("bulk job %s: its parties could not be told; they will be when it is resumed and ends", job_id)
        return 0


def _held(job_id: int) -> tuple[list[bulk.Loaded], str | None]:
    """The job's held claims, as the e-mail reads them, with their parties, each party one object."""
    R, C, L = Repairer.alias(), AspCentre.alias(), Lawyer.alias()
    rows = (N.select(Claim.id, Claim.number, Claim.customer_name, Claim.vehicle_a_plate, N.status, N.note,
                     R.id, R.name, R.email, C.id, C.name, C.email, L.id, L.name, L.email)
            .join(Claim, on=(N.claim == Claim.id))
            .join_from(N, R, on=(N.repairer_id == R.id))
            .join_from(N, C, on=(N.asp_centre_id == C.id))
            .join_from(N, L, pw.JOIN.LEFT_OUTER, on=(N.lawyer_id == L.id))
            .where(N.job == job_id).order_by(N.id).tuples())
    parties: dict[tuple, object] = {}
    claims, note = [], None
    for row in rows:
        claim_id, number, customer, plate, status, held_note = row[:6]
        repairer, centre = bulk.party(parties, Repairer, row[6:9]), bulk.party(parties, AspCentre, row[9:12])
        lawyer = bulk.party(parties, Lawyer, row[12:15]) if row[12] is not None else None
        claims.append(bulk.Loaded(id=claim_id, number=number, customer_name=customer, vehicle_a_plate=plate,
                                  status=status, repairer=repairer, repairer_id=repairer.id, asp_centre=centre,
                                  asp_centre_id=centre.id, lawyer=lawyer, lawyer_id=lawyer.id if lawyer else None))
        note = note or held_note
    return claims, note
