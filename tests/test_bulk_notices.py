"""A bulk job tells each party once, when it ends (workflows/bulk_notices.py): its batches
hold the claims they changed, and the job's end, done or failed, tells them all in one
e-mail per party. Batches of 10 here (`BATCH`), as a job of 5,000 runs in batches of 500."""
from __future__ import annotations

import datetime as dt

import pytest

from models import BulkJob, BulkNotice, Claim, ClaimStatus, OutboundEmail, OutboundMessage, utcnow
from tasks import bulk as job_tasks
from workflows import bulk, bulk_jobs, bulk_notices, notify
from workflows.bulk import apply_many

from .test_bulk_jobs import (  # noqa: F401 - fixtures and builders
    BATCH,
    Crash,
    desk,
    failed_job,
    received_claims,
    reload,
    run_queued,
    worker_app,
)
from .test_mail import queue  # noqa: F401 - the fixture: an empty huey queue


def told(since: int = 0) -> dict[str, list[str]]:
    """Address -> the bodies of the bulk e-mails written to it (outbox rows after id `since`)."""
    rows = (OutboundEmail.select(OutboundEmail.recipients, OutboundMessage.subject, OutboundMessage.body)
            .join(OutboundMessage).where(OutboundEmail.id > since, OutboundMessage.subject.contains("pratich"))
            .order_by(OutboundEmail.id).tuples())
    bodies: dict[str, list[str]] = {}
    for address, _subject, body in rows:
        bodies.setdefault(address, []).append(body)
    return bodies


def last_email_id() -> int:
    return OutboundEmail.select(OutboundEmail.id).order_by(OutboundEmail.id.desc()).scalar() or 0


def listed(body: str, claims) -> list[str]:
    return [c.number for c in claims if c.number in body]


def test_a_job_in_many_batches_tells_each_party_once_of_all_its_claims(desk, worker_app, queue):
    lawyer = desk.f.lawyer(desk.centre, name="Avv. Neri")
    claims = received_claims(desk, 35)
    Claim.update(status=ClaimStatus.VALIDATED).where(Claim.id.in_([c.id for c in claims])).execute()
    since = last_email_id()
    job = job_tasks.start("assign", [c.id for c in claims], desk.manager, {"lawyer": lawyer.id})
    assert run_queued() == ["done"]

    assert reload(job).succeeded == 35
    bodies = told(since)
    assert sorted(bodies) == sorted([desk.repairer.email, desk.centre.email, lawyer.email])
    for address, sent in bodies.items():
        assert len(sent) == 1, address  # four batches, one e-mail
        assert "35 pratiche che vi riguardano sono state affidate a Avv. Neri" in sent[0]
        assert listed(sent[0], claims) == [c.number for c in claims]
    assert BulkNotice.select().count() == 0  # told, then forgotten


def test_a_running_job_holds_its_claims_and_the_worker_taking_it_over_tells_them_all(
        desk, worker_app, queue, monkeypatch):
    claims = received_claims(desk, 35)
    since = last_email_id()
    job = job_tasks.start("drop", [c.id for c in claims], desk.manager, {"reason": "duplicate"})
    original, handed = notify.flush, []

    def die_after_the_second_batch():
        handed.append(1)
        if len(handed) == 2:
            raise Crash()
        return original()
    monkeypatch.setattr(notify, "flush", die_after_the_second_batch)
    with pytest.raises(Crash):
        run_queued()
    assert reload(job).processed == 2 * BATCH
    assert told(since) == {}  # nothing said while the job runs
    held = BulkNotice.select(BulkNotice.claim, BulkNotice.status).where(BulkNotice.job == job.id).tuples()
    assert sorted(held) == [(c.id, ClaimStatus.DROPPED) for c in claims[:2 * BATCH]]

    monkeypatch.setattr(notify, "flush", original)
    BulkJob.update(lease_until=utcnow() - dt.timedelta(seconds=1)).where(BulkJob.id == job.id).execute()
    job_tasks.run_bulk_job(job.id)  # the sweep sends it again: another worker takes it over
    assert run_queued() == ["done"]
    bodies = told(since)
    assert sorted(bodies) == sorted([desk.repairer.email, desk.centre.email])
    for sent in bodies.values():
        assert len(sent) == 1
        assert listed(sent[0], claims) == [c.number for c in claims]  # the first worker's claims too
        assert "35 pratiche" in sent[0]


def test_a_job_that_fails_tells_what_it_changed_and_once_resumed_the_rest(desk, worker_app, queue, monkeypatch):
    claims = received_claims(desk, 35)
    since = last_email_id()
    job = failed_job(desk, claims, monkeypatch)  # on its second batch
    assert (job.status, job.processed) == (bulk_jobs.FAILED, BATCH)
    first = told(since)
    assert sorted(first) == sorted([desk.repairer.email, desk.centre.email])
    for sent in first.values():  # its changes are real: they are told at once
        assert len(sent) == 1 and listed(sent[0], claims) == [c.number for c in claims[:BATCH]]
    assert BulkNotice.select().where(BulkNotice.job == job.id).count() == 0

    after_failure = last_email_id()
    assert job_tasks.resume(job, desk.manager)
    assert run_queued() == ["done"]
    for sent in told(after_failure).values():
        assert len(sent) == 1 and listed(sent[0], claims) == [c.number for c in claims[BATCH:]]


def test_a_job_given_up_tells_what_it_changed_before(desk, worker_app, queue):
    claims = received_claims(desk, 12)
    job = bulk_jobs.record("drop", [c.id for c in claims], desk.manager, {"reason": "duplicate"})
    apply_many("drop", [c.id for c in claims[:5]], desk.manager, tell=bulk_notices.holder(job.id), reason="duplicate")
    since = last_email_id()
    assert told(since) == {}
    BulkJob.update(status=bulk_jobs.RUNNING, owner="gone/1", processed=5, interruptions=bulk_jobs.MAX_INTERRUPTIONS,
                   lease_until=utcnow() - dt.timedelta(seconds=1)).where(BulkJob.id == job.id).execute()

    assert bulk_jobs.take(job.id, "worker/2", 30) is None
    assert reload(job).status == bulk_jobs.FAILED
    bodies = told(since)
    assert sorted(bodies) == sorted([desk.repairer.email, desk.centre.email])
    for sent in bodies.values():
        assert len(sent) == 1 and listed(sent[0], claims) == [c.number for c in claims[:5]]
    assert Claim.select().where(Claim.id.in_([c.id for c in claims[5:]]),
                                Claim.status == ClaimStatus.DROPPED).count() == 0



def test_a_job_whose_parties_cannot_be_told_still_ends_and_tells_them_once_resumed(
        desk, worker_app, queue, monkeypatch):
    claims = received_claims(desk, 25)
    since = last_email_id()
    job = job_tasks.start("drop", [c.id for c in claims], desk.manager, {"reason": "duplicate"})
    original = bulk.queue_emails

    def broken(*args, **kwargs):
        raise RuntimeError("the e-mail template is broken")
    monkeypatch.setattr(bulk, "queue_emails", broken)
    run_queued()  # the end of the job cannot tell: the job fails, its claims stay held
    assert reload(job).status == bulk_jobs.FAILED
    assert told(since) == {}
    assert BulkNotice.select().where(BulkNotice.job == job.id).count() == 25

    monkeypatch.setattr(bulk, "queue_emails", original)
    assert job_tasks.resume(reload(job), desk.manager)
    assert run_queued() == ["done"]
    for sent in told(since).values():
        assert len(sent) == 1 and listed(sent[0], claims) == [c.number for c in claims]
    assert BulkNotice.select().count() == 0
