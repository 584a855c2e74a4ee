"""Large bulk actions run in the worker, recording their progress on a BulkJob row."""
from __future__ import annotations

import json
import logging

from models import BulkJob, User, utcnow
from workflows.bulk import BulkResult, apply_many

from . import database, flask_app, huey

log = logging.getLogger("gessin.bulk")

KEPT_SKIPS = 1000


def start(event: str, claim_ids: list[int], user: User, params: dict) -> BulkJob:
    """Record the job and queue it; the grid shows its progress page meanwhile."""
    job = BulkJob.create(user=user, event=event, params=json.dumps(params), claim_ids=json.dumps(claim_ids),
                         total=len(claim_ids))
    run_bulk_job(job.id)
    log.info("bulk job %s queued by %s: %s on %d claims", job.id, user.login, event, len(claim_ids))
    return job


def _save_progress(job_id: int, done: int, result: BulkResult) -> None:
    BulkJob.update(processed=done, succeeded=len(result.succeeded),
                   skipped=json.dumps(result.skipped[:KEPT_SKIPS])).where(BulkJob.id == job_id).execute()


@huey.task()
def run_bulk_job(job_id: int) -> str:
    """Run a queued job once: a second delivery of the same task finds it taken and stops."""
    app = flask_app()
    with app.app_context(), database():
        taken = BulkJob.update(status="running").where(BulkJob.id == job_id, BulkJob.status == "queued").execute()
        if not taken:
            return "skipped"
        job = BulkJob.get_by_id(job_id)
        user = User.get_by_id(job.user_id)
        try:
            result = apply_many(job.event, json.loads(job.claim_ids), user,
                                progress=lambda done, res: _save_progress(job_id, done, res),
                                **json.loads(job.params))
        except Exception as exc:
            BulkJob.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=utcnow()) \
                .where(BulkJob.id == job_id).execute()
            log.exception("bulk job %s failed", job_id)
            raise
        _save_progress(job_id, job.total, result)
        BulkJob.update(status="done", finished_at=utcnow()).where(BulkJob.id == job_id).execute()
        return "done"
