"""Bulk jobs that outlive their worker: a lease on the job, progress committed with each batch,
takeover of a job whose worker stopped, and the resume of a failed job by its user."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
import time
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from huey.exceptions import TaskLockedException

import tasks
from models import BulkJob, Claim, ClaimStatus, OutboundEmail, Role, StatusChange, db, is_postgres, utcnow
from tasks import bulk as job_tasks
from tasks import huey
from workflows import bulk, notify
from workflows.bulk import apply_many

from .conftest import QueryCounter, csrf_token, login
from .test_mail import queue  # noqa: F401 - the fixture: an empty huey queue
from .workers import Consumer

BATCH = 10


@pytest.fixture
def worker_app(app, monkeypatch):
    """The test app as the tasks see it, with small batches."""
    monkeypatch.setattr(tasks, "_app", app)
    monkeypatch.setitem(app.config, "BULK_BATCH_SIZE", BATCH)
    return app


@pytest.fixture
def desk(f):
    centre = f.centre(name="Centro Alfa")
    return SimpleNamespace(f=f, centre=centre, repairer=f.repairer(), manager=f.user(Role.ASP_MANAGER, asp_centre=centre),
                           admin=f.user(Role.ADMIN))


def received_claims(desk, n: int) -> list[Claim]:
    return [desk.f.claim(desk.repairer, desk.centre) for _ in range(n)]


def run_queued() -> list:
    """Run the queued bulk jobs' tasks as a worker would; their results (the e-mails' are dropped)."""
    results = []
    while huey.pending_count() and (task := huey.dequeue()) is not None:
        if isinstance(task, job_tasks.run_bulk_job.task_class):
            results.append(huey.execute(task))
    return results


def reload(job: BulkJob) -> BulkJob:
    return BulkJob.get_by_id(job.id)


def dropped(claims) -> list[int]:
    return [c.id for c in Claim.select(Claim.id).where(Claim.id.in_([c.id for c in claims]),
                                                       Claim.status == ClaimStatus.DROPPED).order_by(Claim.id)]


def changed_once(claims) -> None:
    """Every claim dropped, its version one up, and one history row of the drop."""
    saved = {c.id: c for c in Claim.select().where(Claim.id.in_([c.id for c in claims]))}
    assert {saved[c.id].status for c in claims} == {ClaimStatus.DROPPED}
    assert [c.id for c in claims if saved[c.id].version != c.version + 1] == []
    history = (StatusChange.select(StatusChange.claim).where(StatusChange.claim.in_([c.id for c in claims]),
                                                               StatusChange.event == "drop").tuples())
    counts = {}
    for (claim_id,) in history:
        counts[claim_id] = counts.get(claim_id, 0) + 1
    assert counts == {c.id: 1 for c in claims}


class Crash(BaseException):
    """A worker that dies mid-job: nothing of the task's own handling runs."""


# ---- a batch and its progress commit together ---------------------------------------------

def test_a_batch_whose_progress_cannot_be_written_is_rolled_back_with_it(desk, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH", 2)
    claims = received_claims(desk, 5)
    emails_before = OutboundEmail.select().count()
    calls = []

    def progress(done, result):
        calls.append(done)
        if len(calls) == 2:
            raise RuntimeError("progress not written")
    with pytest.raises(RuntimeError):
        apply_many("drop", [c.id for c in claims], desk.manager, progress=progress, reason="duplicate")
    assert dropped(claims) == [c.id for c in claims[:2]]  # the first batch only: the second rolled back
    assert StatusChange.select().where(StatusChange.event == "drop").count() == 2
    assert OutboundEmail.select().count() == emails_before + 2  # repairer and centre, one each: first batch


def test_a_worker_dying_right_after_a_commit_leaves_the_progress_equal_to_the_claims_changed(
        desk, worker_app, queue, monkeypatch):
    claims = received_claims(desk, 35)
    job = job_tasks.start("drop", [c.id for c in claims], desk.manager, {"reason": "duplicate"})
    original, handed = notify.flush, []

    def die_handing_over_the_third_batchs_emails():
        handed.append(1)
        if len(handed) == 3:  # the batch is committed; its e-mails were being queued
            raise Crash()
        return original()
    monkeypatch.setattr(notify, "flush", die_handing_over_the_third_batchs_emails)
    with pytest.raises(Crash):
        run_queued()
    job = reload(job)
    assert dropped(claims) == [c.id for c in claims[:3 * BATCH]]
    assert (job.status, job.processed, job.succeeded) == ("running", 3 * BATCH, 3 * BATCH)


def test_a_worker_that_lost_its_lease_commits_no_further_batch(desk, worker_app, queue, monkeypatch):
    claims = received_claims(desk, 25)
    job = job_tasks.start("drop", [c.id for c in claims], desk.manager, {"reason": "duplicate"})
    original, batches = bulk._load, []

    def taken_over_during_the_second_batch(ids, user):
        batches.append(ids)
        if len(batches) == 2:  # another worker found the lease lapsed (this one stalled) and took the job
            BulkJob.update(owner="another-worker", lease_until=utcnow() + dt.timedelta(minutes=1)) \
                .where(BulkJob.id == job.id).execute()
        return original(ids, user)
    monkeypatch.setattr(bulk, "_load", taken_over_during_the_second_batch)
    assert run_queued() == ["lost"]
    job = reload(job)
    assert (job.status, job.owner, job.processed) == ("running", "another-worker", BATCH)
    assert dropped(claims) == [c.id for c in claims[:BATCH]]  # the second batch was rolled back


def test_a_jobs_statements_per_batch_do_not_grow_with_its_claims(desk, worker_app, queue):
    counts = {}
    for n in (3, BATCH):
        job = job_tasks.start("drop", [c.id for c in received_claims(desk, n)], desk.manager, {"reason": "duplicate"})
        with QueryCounter() as queries:
            assert job_tasks.run_bulk_job.call_local(job.id) == "done"
        counts[n] = queries.count
    assert counts[BATCH] == counts[3], counts


# ---- a job whose worker stopped is taken over --------------------------------------------

def crashed_job(desk, claims, monkeypatch, after_batches: int = 1) -> BulkJob:
    """A job whose worker died after `after_batches` batches, its lease lapsed."""
    job = job_tasks.start("drop", [c.id for c in claims], desk.manager, {"reason": "duplicate"})
    original, batches = bulk._load, []

    def crash(ids, user):
        batches.append(ids)
        if len(batches) > after_batches:
            raise Crash()
        return original(ids, user)
    with monkeypatch.context() as patch:
        patch.setattr(bulk, "_load", crash)
        with pytest.raises(Crash):
            run_queued()
    BulkJob.update(lease_until=utcnow() - dt.timedelta(seconds=1)).where(BulkJob.id == job.id).execute()
    return reload(job)


def test_the_sweep_resumes_a_job_whose_worker_stopped_from_its_first_unprocessed_batch(desk, worker_app, queue,
                                                                                        monkeypatch):
    claims = received_claims(desk, 25)
    job = crashed_job(desk, claims, monkeypatch)
    assert (job.status, job.processed) == ("running", BATCH)
    assert job_tasks.sweep_bulk_jobs.call_local() == 1
    assert run_queued() == ["done"]
    job = reload(job)
    assert (job.status, job.processed, job.succeeded, json.loads(job.skipped)) == ("done", 25, 25, [])
    assert (job.interruptions, job.owner, job.lease_until) == (1, None, None)
    changed_once(claims)
    assert job_tasks.sweep_bulk_jobs.call_local() == 0


def test_a_job_that_keeps_stopping_its_worker_is_given_up_not_taken_over_again(desk, worker_app, queue,
                                                                                monkeypatch):
    from workflows import bulk_jobs

    claims = received_claims(desk, 25)
    job = crashed_job(desk, claims, monkeypatch)
    for _ in range(bulk_jobs.MAX_INTERRUPTIONS):  # taken over, and its worker stopped again, each time
        assert job_tasks.sweep_bulk_jobs.call_local() == 1
        with monkeypatch.context() as patch:
            patch.setattr(bulk, "_load", lambda ids, user: (_ for _ in ()).throw(Crash()))
            with pytest.raises(Crash):
                run_queued()
        BulkJob.update(lease_until=utcnow() - dt.timedelta(seconds=1)).where(BulkJob.id == job.id).execute()
    assert reload(job).interruptions == bulk_jobs.MAX_INTERRUPTIONS
    assert job_tasks.sweep_bulk_jobs.call_local() == 1
    assert run_queued() == ["skipped"]  # not taken over a fourth time: given up
    job = reload(job)
    assert (job.status, job.processed, job.owner) == ("failed", BATCH, None)
    shown = bulk_jobs.shown(job)
    assert shown.state == "failed" and "si è fermato 4 volte" in shown.detail
    assert job_tasks.sweep_bulk_jobs.call_local() == 0  # nor sent again
    assert job_tasks.resume(job, desk.manager)  # its user, once the cause is gone: from its first unprocessed batch
    assert run_queued() == ["done"]
    changed_once(claims)


def test_the_sweep_leaves_alone_a_job_its_worker_still_holds(desk, worker_app, queue, monkeypatch):
    claims = received_claims(desk, 15)
    job = crashed_job(desk, claims, monkeypatch)
    BulkJob.update(lease_until=utcnow() + dt.timedelta(seconds=30)).where(BulkJob.id == job.id).execute()
    assert job_tasks.sweep_bulk_jobs.call_local() == 0
    assert job_tasks.run_bulk_job.call_local(job.id) == "skipped"  # a task for it does nothing either
    assert reload(job).processed == BATCH


def test_the_sweep_sends_again_a_queued_job_no_worker_took(desk, worker_app, queue):
    claims = received_claims(desk, 3)
    job = job_tasks.start("drop", [c.id for c in claims], desk.manager, {"reason": "duplicate"})
    huey.flush()  # its task was lost with the worker that had taken it from the queue
    assert job_tasks.sweep_bulk_jobs.call_local() == 0  # not yet: it may still be waiting its turn
    BulkJob.update(lease_until=utcnow() - dt.timedelta(seconds=1)).where(BulkJob.id == job.id).execute()
    assert job_tasks.sweep_bulk_jobs.call_local() == 1
    assert job_tasks.sweep_bulk_jobs.call_local() == 0  # sent once per wait, not once a minute
    assert run_queued() == ["done"]
    changed_once(claims)


def test_the_sweep_does_not_run_while_another_holds_its_lock(worker_app, queue):
    with huey.lock_task("bulk-job-sweep"), pytest.raises(TaskLockedException):
        job_tasks.sweep_bulk_jobs.call_local()
    assert job_tasks.sweep_bulk_jobs.call_local() == 0


def test_a_starting_consumer_sends_unfinished_jobs_at_once_or_when_their_lease_ends(desk, worker_app, queue,
                                                                                     monkeypatch):
    lapsed = crashed_job(desk, received_claims(desk, 12), monkeypatch)
    held = crashed_job(desk, received_claims(desk, 12), monkeypatch)
    BulkJob.update(lease_until=utcnow() + dt.timedelta(seconds=20)).where(BulkJob.id == held.id).execute()
    assert job_tasks.send_unfinished() == 2
    assert run_queued() == ["done", None]  # the second is not due yet: it goes to the schedule
    assert (reload(lapsed).status, reload(held).status) == ("done", "running")
    [scheduled] = huey.scheduled()
    assert scheduled.args == (held.id,)
    assert dt.timedelta(seconds=15) < scheduled.eta - utcnow() <= dt.timedelta(seconds=21)


def test_a_job_whose_worker_is_gone_is_taken_over_at_once_not_when_its_lease_ends(client, desk, worker_app, queue,
                                                                                   monkeypatch):
    """The lease is the fallback: a consumer known dead (no heartbeat, `tasks/workers.py`)
    frees its job at once, on its page, in the sweep and at a consumer's start."""
    from models import Worker
    claims = received_claims(desk, 25)
    job = crashed_job(desk, claims, monkeypatch)
    dead = "altro-host:4242:0badf00d"
    Worker.create(name=dead, host="altro-host", pid=4242, heartbeat_at=utcnow() - dt.timedelta(minutes=5))
    BulkJob.update(owner=f"{dead}/run1", lease_until=utcnow() + dt.timedelta(minutes=5)) \
        .where(BulkJob.id == job.id).execute()
    login(client, desk.manager)
    assert 'data-state="stalled"' in page(client, job) and "In corso" not in page(client, job)
    assert job_tasks.send_unfinished() == 1 and huey.scheduled() == []  # sent now, not when the lease ends
    assert run_queued() == ["done"]
    job = reload(job)
    assert (job.status, job.processed, job.interruptions) == ("done", 25, 1)
    changed_once(claims)


def test_a_job_whose_worker_is_alive_keeps_its_lease(desk, worker_app, queue, monkeypatch):
    from models import Worker
    job = crashed_job(desk, received_claims(desk, 15), monkeypatch)
    alive = "altro-host:4243:0badcafe"
    Worker.create(name=alive, host="altro-host", pid=4243, heartbeat_at=utcnow())
    BulkJob.update(owner=f"{alive}/run1", lease_until=utcnow() + dt.timedelta(minutes=5)) \
        .where(BulkJob.id == job.id).execute()
    assert job_tasks.sweep_bulk_jobs.call_local() == 0
    assert job_tasks.run_bulk_job.call_local(job.id) == "skipped"
    assert reload(job).owner == f"{alive}/run1"


# ---- what the progress page says -----------------------------------------------------------

def page(client, job) -> str:
    response = client.get(f"/admin/claim/bulk/{job.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_page_of_a_job_whose_worker_stopped_says_it_waits_for_a_worker(client, desk, worker_app, queue,
                                                                            monkeypatch):
    claims = received_claims(desk, 25)
    job = crashed_job(desk, claims, monkeypatch)
    login(client, desk.manager)
    text = page(client, job)
    assert 'data-state="stalled"' in text and "In corso" not in text
    assert "In attesa di un worker" in text and "riprenderà dalla pratica 11 di 25" in text
    assert '<meta http-equiv="refresh"' in text  # it keeps watching
    BulkJob.update(lease_until=utcnow() + dt.timedelta(seconds=30)).where(BulkJob.id == job.id).execute()
    assert "In corso" in page(client, job)  # while its worker holds it, it is running
    BulkJob.update(lease_until=utcnow() - dt.timedelta(seconds=1)).where(BulkJob.id == job.id).execute()
    job_tasks.sweep_bulk_jobs.call_local()
    run_queued()
    text = page(client, job)
    assert 'data-state="done"' in text and "Ripreso dopo l&#39;interruzione del worker" in text


def test_a_queued_job_waits_for_a_worker(client, desk, worker_app, queue):
    job = job_tasks.start("drop", [c.id for c in received_claims(desk, 2)], desk.manager, {"reason": "duplicate"})
    login(client, desk.manager)
    text = page(client, job)
    assert 'data-status="queued"' in text and "In attesa di un worker" in text


# ---- a failed job is resumed by its user or the call centre -----------------------------

def failed_job(desk, claims, monkeypatch) -> BulkJob:
    job = job_tasks.start("drop", [c.id for c in claims], desk.manager, {"reason": "duplicate"})
    original, batches = bulk._load, []

    def fail_on_the_second_batch(ids, user):
        batches.append(ids)
        if len(batches) == 2:
            raise RuntimeError("connessione al database persa")
        return original(ids, user)
    with monkeypatch.context() as patch:
        patch.setattr(bulk, "_load", fail_on_the_second_batch)
        assert run_queued() == [None]  # the task raised: huey logged it
    return reload(job)


def resume(client, job, token=True):
    data = {"url": "/admin/claim/?flt0_0=received"}
    if token:
        data["csrf_token"] = csrf_token(client, "/admin/claim/")
    return client.post(f"/admin/claim/bulk/{job.id}/resume", data=data)


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_a_failed_job_is_resumed_by_its_user_or_the_call_centre(client, desk, worker_app, queue, monkeypatch, who):
    claims = received_claims(desk, 25)
    job = failed_job(desk, claims, monkeypatch)
    assert (job.status, job.processed, job.owner) == ("failed", BATCH, None)
    login(client, getattr(desk, who))
    text = page(client, job)
    assert 'data-state="failed"' in text and "Riprendi dalla pratica 11" in text
    response = resume(client, job)
    assert response.status_code == 302 and response.headers["Location"].startswith(f"/admin/claim/bulk/{job.id}")
    assert reload(job).status == "queued" and reload(job).error is None
    assert "L&#39;azione riprende dalla pratica 11 di 25" in client.get(response.headers["Location"]).get_data(
        as_text=True)
    assert run_queued() == ["done"]
    job = reload(job)
    assert (job.status, job.processed, job.succeeded) == ("done", 25, 25)
    changed_once(claims)
    assert resume(client, job).status_code == 302 and reload(job).status == "done"  # nothing to resume


def test_only_the_jobs_user_and_the_call_centre_see_or_resume_it(client, desk, worker_app, queue, monkeypatch):
    job = failed_job(desk, received_claims(desk, 15), monkeypatch)
    other_centre = desk.f.centre(name="Centro Beta")
    outsiders = [desk.f.user(Role.ASP_MANAGER, asp_centre=other_centre),
                 desk.f.user(Role.ASP_MANAGER, asp_centre=desk.centre),  # same centre, not the job's user
                 desk.f.user(Role.LAWYER, lawyer=desk.f.lawyer(desk.centre)),
                 desk.f.user(Role.REPAIRER, repairer=desk.repairer)]
    for user in outsiders:
        login(client, user)
        assert client.get(f"/admin/claim/bulk/{job.id}").status_code in (403, 404), user.role
        assert resume(client, job).status_code in (403, 404), user.role
        assert reload(job).status == "failed"
    login(client, desk.manager)
    assert resume(client, job, token=False).status_code == 400  # no CSRF token, no resume
    assert reload(job).status == "failed" and huey.pending_count() == 0
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert client.post(f"/admin/claim/bulk/{job.id}/resume").status_code in (302, 400)
    assert reload(job).status == "failed"


# ---- the real consumer killed mid-job ----------------------------------------------------

@pytest.fixture
def consumer(app, queue, tmp_path):
    worker = Consumer(tmp_path / "huey_consumer.log", DATABASE_URL=app.config["DATABASE_URL"],
                      PUBLIC_URL=app.config["PUBLIC_URL"], BULK_BATCH_SIZE=str(BATCH), BULK_LEASE_SECONDS="3")
    try:
        yield worker
    finally:
        worker.stop()
        sys.stdout.write(f"\n--- huey_consumer log ---\n{worker.log_path.read_text(errors='replace')[-6000:]}\n")


@contextmanager
def job_row_held(app, job_id: int):
    """Another connection holds the job's row (SQLite: the whole database) for writing:
    the worker cannot commit its next batch, which waits, uncommitted, meanwhile."""
    url = app.config["DATABASE_URL"]
    if is_postgres():
        import psycopg2
        conn = psycopg2.connect(url)
        conn.cursor().execute('SELECT 1 FROM "bulk_job" WHERE "id" = %s FOR UPDATE', (job_id,))
    else:
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
        conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def wait_for(condition, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.close()  # a fresh read each time (SQLite: a new snapshot)
        if result := condition():
            return result
        time.sleep(interval)
    pytest.fail(f"not within {timeout:.0f} s: {what}")


def test_a_job_whose_consumer_was_killed_finishes_after_the_restart_each_claim_changed_once(
        app, client, desk, consumer):
    claims = received_claims(desk, 15 * BATCH)
    login(client, desk.manager)
    consumer.start()
    job = job_tasks.start("drop", [c.id for c in claims], desk.manager, {"reason": "duplicate"})
    wait_for(lambda: reload(job).processed >= BATCH, 60, "the first batch committed", interval=0.01)
    with job_row_held(app, job.id):
        time.sleep(1)  # the worker reaches its next commit and waits there
        consumer.kill()
    db.close()
    job = reload(job)
    assert job.status == "running" and BATCH <= job.processed < job.total, "killed mid-job"
    # what was committed is exactly what the progress says
    assert dropped(claims) == [c.id for c in claims[:job.processed]] and job.succeeded == job.processed

    wait_for(lambda: reload(job).lease_until < utcnow(), 30, "the dead worker's lease lapsed")
    text = page(client, job)
    assert "In corso" not in text and "In attesa di un worker" in text, "the page shows a job nobody runs as running"

    consumer.start()
    job = wait_for(lambda: (j := reload(job)).status in ("done", "failed") and j, 90, "the job finished")
    assert (job.status, job.processed, job.succeeded, json.loads(job.skipped)) == ("done", job.total, job.total, [])
    assert job.interruptions >= 1 and job.error is None
    db.close()
    changed_once(claims)
    text = page(client, job)
    assert 'data-state="done"' in text and "Ripreso dopo l&#39;interruzione del worker" in text
    assert consumer.process.poll() is None, "the worker died"


def test_the_call_centre_sees_every_job_in_its_grid_and_a_manager_only_their_own(client, desk, worker_app, queue,
                                                                                  monkeypatch):
    stalled = crashed_job(desk, received_claims(desk, 15), monkeypatch)
    other = desk.f.user(Role.ASP_MANAGER, asp_centre=desk.centre)
    theirs = job_tasks.start("drop", [c.id for c in received_claims(desk, 2)], other, {"reason": "duplicate"})
    login(client, desk.admin)
    grid = client.get("/admin/bulkjob/").get_data(as_text=True)
    assert f"/admin/claim/bulk/{stalled.id}" in grid and f"/admin/claim/bulk/{theirs.id}" in grid
    assert "In attesa di un worker" in grid and "In corso" not in grid
    assert client.get(f"/admin/claim/bulk/{theirs.id}").status_code == 200  # the call centre follows any job
    login(client, desk.manager)
    grid = client.get("/admin/bulkjob/").get_data(as_text=True)
    assert f"/admin/claim/bulk/{stalled.id}" in grid and f"/admin/claim/bulk/{theirs.id}" not in grid
    assert client.get(f"/admin/bulkjob/details/?id={theirs.id}").status_code == 404
    login(client, desk.f.user(Role.LAWYER, lawyer=desk.f.lawyer(desk.centre)))
    assert client.get("/admin/bulkjob/").status_code == 403
