"""Large bulk actions run in the worker, recording their progress on a BulkJob row.

A job survives its worker: the worker holds it under a lease (`workflows/bulk_jobs.py`)
renewed at each batch and, during a long batch, by a heartbeat thread. When a consumer
starts it sends the task of every unfinished job: at once when its worker is gone
(`tasks/workers.py`: a killed consumer is seen at once by the one restarted in its
place), else when the lease ends; a sweep each minute does the same for jobs left
behind. The task takes the job over and resumes it from its first unprocessed batch.
"""
from __future__ import annotations

import json
import logging
import threading
import uuid

from huey import crontab

from models import BulkJob, User, db, utcnow
from workflows import bulk_jobs, bulk_notices, notify
from workflows.bulk import apply_many

from . import database, flask_app, huey, workers

log = logging.getLogger("gessin.bulk")

sweep_lock = huey.lock_task("bulk-job-sweep")
_recovered = threading.Event()  # once per consumer process, not once per worker thread
_recovering = threading.Lock()


def start(event: str, claim_ids: list[int], user: User, params: dict) -> BulkJob:
    """Record the job and queue it; the grid shows its progress page meanwhile."""
    job = bulk_jobs.record(event, claim_ids, user, params)
    run_bulk_job(job.id)
    log.info("bulk job %s queued by %s: %s on %d claims", job.id, user.login, event, job.total)
    return job


def resume(job: BulkJob, user: User) -> bool:
    """A failed job queued again by its user or the call centre; False if it could not be."""
    if not bulk_jobs.resume(job, user):
        return False
    run_bulk_job(job.id)
    return True


def lease_seconds(config) -> float:
    return float(config["BULK_LEASE_SECONDS"])


class Heartbeat(threading.Thread):
    """Renews the lease every third of its length while a batch runs, on its own connection."""

    def __init__(self, job_id: int, owner: str, seconds: float):
        super().__init__(name=f"bulk-job-{job_id}-heartbeat", daemon=True)
        self.job_id, self.owner, self.seconds = job_id, owner, seconds
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.seconds / 3):
            try:
                with db.connection_context():
                    if not bulk_jobs.renew(self.job_id, self.owner, self.seconds):
                        return  # taken over: the next batch's progress will say so and roll back
            except Exception as exc:  # noqa: BLE001 - a missed beat is retried; the lease says the rest
                log.warning("bulk job %s: lease not renewed (%s)", self.job_id, type(exc).__name__)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.join()


def worker_name() -> str:
    """Who holds a job: this consumer process's liveness name and this run, so two runs
    never share a lease, and a job of a worker that is gone is taken over at once."""
    return f"{workers.current()}/{uuid.uuid4().hex[:8]}"


@huey.task()
def run_bulk_job(job_id: int) -> str:
    """Run a job, or take it over from a worker whose lease lapsed; a task for a job
    another worker holds, or one that is over, does nothing."""
    app = flask_app()
    owner, seconds = worker_name(), lease_seconds(app.config)
    with app.app_context(), database():
        try:
            return _run(app, job_id, owner, seconds)
        finally:
            notify.flush()  # the e-mails of the job's end (done, failed, given up), once committed


def _run(app, job_id: int, owner: str, seconds: float) -> str:
    """Take the job, run its batches from the first unprocessed one, end it: done, or failed on an error."""
    job = bulk_jobs.take(job_id, owner, seconds, live=workers.live_names())
    if job is None:
        return "skipped"
    try:
        with Heartbeat(job_id, owner, seconds):
            apply_many(job.event, json.loads(job.claim_ids), User.get_by_id(job.user_id), start=job.processed,
                       batch_size=app.config["BULK_BATCH_SIZE"], progress=bulk_jobs.Progress(job, owner, seconds),
                       tell=bulk_notices.holder(job_id), **json.loads(job.params))
        ended = bulk_jobs.finish(job_id, owner)  # telling its parties may fail too: then the job fails
    except bulk_jobs.LeaseLost:
        log.warning("bulk job %s: taken over by another worker, %s stops", job_id, owner)
        return "lost"
    except Exception as exc:
        bulk_jobs.fail(job_id, owner, f"{type(exc).__name__}: {exc}")
        log.exception("bulk job %s failed", job_id)
        raise
    if not ended:
        return "lost"
    log.info("bulk job %s done", job_id)
    return "done"


def send_unfinished() -> int:
    """Send the task of every unfinished job: now, or, held by a living worker, when its lease ends."""
    now, sent, live = utcnow(), 0, workers.live_names()
    for job in bulk_jobs.unfinished():
        held = job.status == bulk_jobs.RUNNING and job.lease_until is not None and job.lease_until >= now \
            and not bulk_jobs.held_by_the_dead(job, live)
        if held:
            run_bulk_job.schedule((job.id,), delay=(job.lease_until - now).total_seconds() + 0.5)
        else:
            run_bulk_job(job.id)
        sent += 1
    return sent


@huey.on_startup()
def resume_bulk_jobs() -> None:
    """At consumer start every worker thread calls this; the first sends the jobs' tasks.
    A job held by a worker of the previous consumer is taken over once its lease ends."""
    with _recovering:
        if _recovered.is_set():
            return
        _recovered.set()
    app = flask_app()
    with app.app_context(), database():
        sent = send_unfinished()
    if sent:
        log.info("consumer start: %d unfinished bulk job(s) sent to the workers", sent)


@huey.periodic_task(crontab(minute="*"))
@sweep_lock
def sweep_bulk_jobs() -> int:
    """Send again the task of jobs whose worker stopped, or that no worker took in time."""
    app = flask_app()
    with app.app_context(), database():
        due = bulk_jobs.due_for_dispatch(live=workers.live_names())
    for job_id in due:
        run_bulk_job(job_id)
    if due:
        log.info("bulk job sweep: %d job(s) sent again to the workers", len(due))
    return len(due)
