"""A bulk job's life in the worker: queued, held by one worker under a lease, done or failed.

A worker takes a job only while it is queued, or running under a lease that has lapsed
(its worker died or hangs); it then holds the lease, renewing it at each batch and by a
heartbeat. Each batch's progress is written in the batch's own transaction and only by
the lease holder: a crash never leaves the progress behind or ahead of the claims, and a
worker that lost its lease cannot commit one more batch (`LeaseLost` rolls it back).
A job that failed on an error is queued again by its user or the call centre, and
resumes, like a job taken over, from its first unprocessed batch.

An owner is `<worker>/<run>`: the consumer process's liveness name (`tasks/workers.py`)
and this run. A job whose worker is gone (given as `live`, the names of the workers
alive) is free at once, without waiting for its lease to lapse.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

import peewee as pw
from flask_babel import lazy_gettext as _l

from models import BulkJob, Role, User, db, parse_id, utcnow

from . import bulk_notices
from .bulk import BulkResult, unique_ids

log = logging.getLogger("gessin.workflows")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
UNFINISHED = (QUEUED, RUNNING)
KEPT_SKIPS = 1000
# How long a queued job waits for a worker before its task is sent again (a task lost
# with a worker that died between taking it from the queue and starting the job).
QUEUE_PATIENCE = dt.timedelta(minutes=2)
# A job taken over from a stopped worker this many times is not taken over again: what
# stopped its workers (a batch that kills the process) would stop the next one too, and
# every task queued behind it. It fails, and its user or the call centre resumes it.
MAX_INTERRUPTIONS = 3
GIVEN_UP = "given up"  # how the error of such a job starts


class LeaseLost(Exception):
    """This worker no longer holds the job: another took it over, so it must stop."""


@dataclass(frozen=True)
class Shown:
    """What the progress page says of a job: `state` for the page's markup, `label` and `detail` for people."""

    state: str
    label: str
    detail: str = ""

    @property
    def unfinished(self) -> bool:
        return self.state in ("waiting", "running", "stalled")


def record(event: str, claim_ids, user: User, params: dict) -> BulkJob:
    """A new queued job; its task must be sent once this commits."""
    ids = unique_ids(claim_ids)
    return BulkJob.create(user=user, event=event, params=json.dumps(params), claim_ids=json.dumps(ids),
                          total=len(ids), status=QUEUED, lease_until=utcnow() + QUEUE_PATIENCE)


def worker_of(owner: str | None) -> str | None:
    """The worker (consumer process) in a job's owner, `<worker>/<run>`."""
    return owner.rsplit("/", 1)[0] if owner else None


def held_by_the_dead(job: BulkJob, live: set[str] | None) -> bool:
    """Running under a lease still valid, but its worker no longer exists."""
    return live is not None and job.status == RUNNING and worker_of(job.owner) not in live


def take(job_id: int, owner: str, lease_seconds: float, live: set[str] | None = None) -> BulkJob | None:
    """Hold the job if it is queued, its lease lapsed or its worker is gone (not in `live`);
    None when another worker runs it or it is over."""
    now = utcnow()
    lapsed = (BulkJob.status == RUNNING) & (BulkJob.lease_until < now)
    if live is not None:
        holder = BulkJob.select(BulkJob.owner).where(BulkJob.id == job_id, BulkJob.status == RUNNING).scalar()
        if holder and worker_of(holder) not in live:  # taken from that very owner: two takers cannot both win
            lapsed = (BulkJob.status == RUNNING) & ((BulkJob.lease_until < now) | (BulkJob.owner == holder))
    stopped = f"{GIVEN_UP}: its worker stopped while running it, {MAX_INTERRUPTIONS + 1} times"
    with db.atomic():
        given_up = (BulkJob.update(status=FAILED, error=stopped, finished_at=now, owner=None, lease_until=None)
                    .where(BulkJob.id == job_id, lapsed, BulkJob.interruptions >= MAX_INTERRUPTIONS).execute())
        if given_up:
            bulk_notices.tell_or_keep(job_id)  # what it changed before it was given up
    if given_up:
        log.error("bulk job %s %s", job_id, stopped)
        return None
    taken = (BulkJob.update(status=RUNNING, owner=owner, lease_until=now + dt.timedelta(seconds=lease_seconds),
                            interruptions=BulkJob.interruptions + pw.Case(None, [(lapsed, 1)], 0))
             .where(BulkJob.id == job_id, (BulkJob.status == QUEUED) | lapsed).execute())
    if not taken:
        return None
    job = BulkJob.get_by_id(job_id)
    log.info("bulk job %s taken by worker %s at %d of %d claims", job_id, owner, job.processed, job.total)
    return job


def renew(job_id: int, owner: str, lease_seconds: float) -> bool:
    """Extend the lease (the heartbeat); False when this worker no longer holds it."""
    return bool(BulkJob.update(lease_until=utcnow() + dt.timedelta(seconds=lease_seconds))
                .where(BulkJob.id == job_id, BulkJob.owner == owner, BulkJob.status == RUNNING).execute())


class Progress:
    """The job's counts as its holder keeps them, written after each batch inside its transaction."""

    def __init__(self, job: BulkJob, owner: str, lease_seconds: float):
        self.job_id, self.owner, self.lease = job.id, owner, dt.timedelta(seconds=lease_seconds)
        self.succeeded = job.succeeded
        self.skipped = [tuple(s) for s in json.loads(job.skipped)]

    def __call__(self, processed: int, batch: BulkResult) -> None:
        succeeded = self.succeeded + len(batch.succeeded)
        skipped = (self.skipped + batch.skipped)[:KEPT_SKIPS]
        written = (BulkJob.update(processed=processed, succeeded=succeeded, skipped=json.dumps(skipped),
                                  lease_until=utcnow() + self.lease)
                   .where(BulkJob.id == self.job_id, BulkJob.owner == self.owner, BulkJob.status == RUNNING)
                   .execute())
        if not written:
            raise LeaseLost(self.job_id)
        self.succeeded, self.skipped = succeeded, skipped  # only once the batch is sure to be written


def finish(job_id: int, owner: str) -> bool:
    """The job done, and its parties told of its claims, in one transaction; the e-mails go
    once it commits (`notify.flush`). False when this worker no longer holds it."""
    return _end(job_id, owner, bulk_notices.tell, status=DONE)


def fail(job_id: int, owner: str, error: str) -> bool:
    """The job failed on an error; its parties are told of the claims it changed so far (if
    that fails too, when it is resumed and ends: `bulk_notices.tell_or_keep`)."""
    return _end(job_id, owner, bulk_notices.tell_or_keep, status=FAILED, error=error[:2000])


def _end(job_id: int, owner: str, tell, **columns) -> bool:
    with db.atomic():
        ended = (BulkJob.update(finished_at=utcnow(), owner=None, lease_until=None, **columns)
                 .where(BulkJob.id == job_id, BulkJob.owner == owner, BulkJob.status == RUNNING).execute())
        if ended:
            tell(job_id)
    return bool(ended)


def visible_jobs(user: User) -> pw.ModelSelect:
    """The jobs `user` may follow: their own; the call centre's, every one."""
    query = BulkJob.select()
    return query if user.role == Role.ADMIN else query.where(BulkJob.user == user.id)


def visible_job(user: User, job_id) -> BulkJob | None:
    job_id = parse_id(job_id)
    return None if job_id is None else visible_jobs(user).where(BulkJob.id == job_id).first()


def can_resume(job: BulkJob, user: User) -> bool:
    return job.status == FAILED and (user.role == Role.ADMIN or job.user_id == user.id)


def resume(job: BulkJob, user: User) -> bool:
    """Queue again a job that failed, to go on from its first unprocessed batch; its task must be sent after."""
    if not can_resume(job, user):
        return False
    queued = (BulkJob.update(status=QUEUED, error=None, finished_at=None, owner=None,
                             lease_until=utcnow() + QUEUE_PATIENCE)
              .where(BulkJob.id == job.id, BulkJob.status == FAILED).execute())
    if queued:
        log.info("bulk job %s resumed by %s after %d of %d claims", job.id, user.login, job.processed, job.total)
    return bool(queued)


def unfinished() -> list[BulkJob]:
    """Every job a worker should be running or about to run."""
    return list(BulkJob.select(BulkJob.id, BulkJob.status, BulkJob.lease_until, BulkJob.owner)
                .where(BulkJob.status.in_(UNFINISHED)).order_by(BulkJob.id))


def due_for_dispatch(live: set[str] | None = None) -> list[int]:
    """Jobs whose task should be sent now: running under a lapsed lease or for a worker
    that is gone, or queued and not taken in time. A queued one gets a new deadline, so
    it is sent once per wait."""
    now = utcnow()
    due = [job.id for job in unfinished()
           if job.lease_until is None or job.lease_until < now or held_by_the_dead(job, live)]
    if due:
        BulkJob.update(lease_until=now + QUEUE_PATIENCE).where(BulkJob.id.in_(due), BulkJob.status == QUEUED).execute()
    return due


def shown(job: BulkJob, now: dt.datetime | None = None, live: set[str] | None = None) -> Shown:
    """The job's state as the page tells it: a running job whose lease lapsed, or whose
    worker is gone (not in `live`), is waiting, never "In corso"."""
    now = now or utcnow()
    if job.status == DONE:
        detail = _l("Ripreso dopo l'interruzione del worker.") if job.interruptions else ""
        return Shown("done", str(_l("Completato")), str(detail))
    if job.status == FAILED and job.error and job.error.startswith(GIVEN_UP):
        return Shown("failed", str(_l("Interrotto: il worker si è fermato più volte")),
                     str(_l("Il worker si è fermato %(n)d volte mentre elaborava questa azione: non viene ripresa "
                            "da sola, perché non fermi anche gli altri lavori. Riprendila quando la causa è risolta.",
                            n=MAX_INTERRUPTIONS + 1)))
    if job.status == FAILED:
        return Shown("failed", str(_l("Interrotto per un errore")))
    if job.status == RUNNING and job.lease_until is not None and job.lease_until >= now \
            and not held_by_the_dead(job, live):
        detail = _l("Ripreso dopo l'interruzione del worker.") if job.interruptions else ""
        return Shown("running", str(_l("In corso")), str(detail))
    if job.status == RUNNING:
        return Shown("stalled", str(_l("In attesa di un worker")),
                     str(_l("Il worker che lo elaborava si è fermato: un altro riprenderà dalla pratica %(n)d "
                            "di %(total)d.", n=job.processed + 1, total=job.total)))
    detail = _l("Riprenderà dalla pratica %(n)d di %(total)d.", n=job.processed + 1, total=job.total) \
        if job.processed else ""
    return Shown("waiting", str(_l("In attesa di un worker")), str(detail))
