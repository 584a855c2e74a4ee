"""Fault scenario: the huey consumer killed with SIGKILL in the middle of a bulk job.

An ASP manager entrusts N claims (default 1,500) to a lawyer in one bulk action, run by
the real worker (`huey_consumer tasks.huey`, a subprocess configured by the environment
as in production, but with batches of `--batch` claims, default 500, against production's
BULK_BATCH_SIZE of 2,500, so the kill lands mid-job). When the job's row says
`--kill-at` claims are processed (default 500) the consumer gets SIGKILL and is started
again at once; several values (`--kill-at 300,900`) kill it once each. It prints:

- claims, kills, and the claims processed (and changed) when each kill landed;
- the time from the last restart to the job done, and to its takeover (the dead
  worker's lease must lapse first: BULK_LEASE_SECONDS, default 30);
- claims changed twice (version or history rows; must be 0) and claims left unchanged;
- the final job status, its counts and how many interruptions it records.

Usage:
    .venv/bin/python benchmarks/faults_bulk.py [--claims 1500] [--kill-at 500] [--batch 500]
        [--lease 30] [--backend sqlite|postgres] [--pg-url postgresql://...bench...]
        [--redis-url redis://127.0.0.1:6379/N] [--json] [--keep]

`--json` adds one last line with the figures as JSON (for a scenario registry that runs
this script as a subprocess). The exit status is non-zero when the job does not finish
or a claim was changed twice or not at all.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK_DIR = Path(tempfile.mkdtemp(prefix="gessin-bench-"))
os.environ["GESSIN_INSTANCE"] = str(WORK_DIR / "instance")  # before the app: huey's SQLite queue goes there
os.environ.pop("HUEY_IMMEDIATE", None)

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/gessin_bench_faults_bulk"
LOAD_BATCH = 500


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1500)
    parser.add_argument("--kill-at", default="500", help="processed counts at which to kill, comma-separated")
    parser.add_argument("--batch", type=int, default=500, help="BULK_BATCH_SIZE of the worker")
    parser.add_argument("--lease", type=float, default=30, help="BULK_LEASE_SECONDS of the worker")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--redis-url", default=None, help="huey on Redis (a db of its own: it is flushed)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the job after a restart")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true")
    return parser.parse_args()


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS and ARGS.redis_url:
    if ARGS.redis_url.rstrip("/").endswith("/0"):
        sys.exit("error: refusing Redis db 0 (a real queue's): give another db number")
    os.environ["REDIS_URL"] = ARGS.redis_url
elif ARGS:
    os.environ.pop("REDIS_URL", None)

import peewee as pw  # noqa: E402

import tasks  # noqa: E402
from app import create_app  # noqa: E402
from common import backends, run_main  # noqa: E402
from models import BulkJob, Claim, ClaimCounter, ClaimStatus, Role, StatusChange, db, is_postgres, utcnow  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from tasks import bulk as job_tasks  # noqa: E402
from tests import factories  # noqa: E402
from tests.workers import Consumer  # noqa: E402


def consumer_for(url: str, args) -> Consumer:
    """The real worker, as production starts it, with the scenario's batch and lease."""
    return Consumer(WORK_DIR / "huey_consumer.log", DATABASE_URL=url, BULK_BATCH_SIZE=str(args.batch),
                    BULK_LEASE_SECONDS=str(args.lease), STORAGE_DIR=str(WORK_DIR / "storage"),
                    SECRET_KEY="benchmark-secret")


def build_app(url: str):
    app = create_app({"DATABASE_URL": url, "STORAGE_DIR": str(WORK_DIR / "storage"), "SECRET_KEY": "benchmark-secret",
                      "MAIL_SERVER": None})
    for logger in ("gessin", "peewee_migrate", "huey"):
        logging.getLogger(logger).setLevel(logging.WARNING)
    with app.app_context(), db.connection_context():
        if is_postgres():
            db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        upgrade()
    tasks.huey.flush()
    return app


def load_claims(n: int) -> tuple[list[int], dict]:
    """N claims in state `validated` of one centre, and the manager and lawyer who act on them."""
    centre = factories.centre()
    lawyer, repairer, insurer = factories.lawyer(centre), factories.repairer(), factories.insurer()
    manager = factories.user(Role.ASP_MANAGER, login="bench-manager", asp_centre=centre)
    now, year = utcnow().replace(microsecond=0), utcnow().year
    rows = [dict(number=f"{year}/{seq:06d}", source="web", received_at=now, repairer=repairer.id,
                 asp_centre=centre.id, insurer=insurer.id, status=ClaimStatus.VALIDATED, status_since=now, version=1,
                 customer_name=f"Cliente {seq}", accident_date=(now - dt.timedelta(days=3)).date(),
                 vehicle_a_plate=factories.plate(), vehicle_b_plate=factories.plate(), complete_since=now.date(),
                 created_at=now, updated_at=now) for seq in range(1, n + 1)]
    with db.atomic():
        for start in range(0, n, LOAD_BATCH):
            Claim.insert_many(rows[start:start + LOAD_BATCH]).execute()
        ClaimCounter.insert(year=year, last=n).execute()
    ids = [c.id for c in Claim.select(Claim.id).order_by(Claim.id)]
    return ids, {"manager": manager, "lawyer": lawyer.id}


def job_row(job_id: int) -> BulkJob:
    db.close()  # a fresh read (SQLite: a new snapshot)
    return BulkJob.get_by_id(job_id)


def wait(condition, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(interval)
    raise RuntimeError(f"not within {timeout:.0f} s: {what}")


def outcome(ids: list[int], lawyer: int) -> dict:
    db.close()
    versions = dict(Claim.select(Claim.version, pw.fn.COUNT(Claim.id)).where(Claim.id.in_(ids))
                    .group_by(Claim.version).tuples())
    history = (StatusChange.select(StatusChange.claim, pw.fn.COUNT(StatusChange.id).alias("n"))
               .where(StatusChange.claim.in_(ids), StatusChange.event == "assign").group_by(StatusChange.claim))
    rows_per_claim = {row.claim_id: row.n for row in history}
    assigned = Claim.select().where(Claim.id.in_(ids), Claim.status == ClaimStatus.ASSIGNED,
                                    Claim.lawyer == lawyer).count()
    twice = {c.id for c in Claim.select(Claim.id).where(Claim.id.in_(ids), Claim.version > 2)} \
        | {claim for claim, n in rows_per_claim.items() if n > 1}
    return {"assigned": assigned, "changed_twice": len(twice), "unchanged": versions.get(1, 0),
            "history_rows": sum(rows_per_claim.values())}


def scenario(args, name: str, url: str) -> dict:
    app = build_app(url)
    kills_at = [int(k) for k in args.kill_at.split(",") if k.strip()]
    consumer = consumer_for(url, args)
    with app.app_context():
        ids, people = load_claims(args.claims)
        db.close()
        consumer.start()
        try:
            job = job_tasks.start("assign", ids, people["manager"], {"lawyer": people["lawyer"]})
            kills = []
            for kill_at in kills_at:
                wait(lambda: job_row(job.id).processed >= kill_at, args.timeout, f"{kill_at} claims processed")
                consumer.kill()
                row = job_row(job.id)
                changed = Claim.select().where(Claim.id.in_(ids), Claim.version > 1).count()
                kills.append({"processed": row.processed, "changed": changed, "status": row.status})
                restarted = time.monotonic()
                consumer.start()
            row = wait(lambda: (r := job_row(job.id)).status in ("done", "failed") and r, args.timeout,
                       "the job finished after the restart")
            finished = time.monotonic() - restarted
        finally:
            consumer.stop()
        figures = outcome(ids, people["lawyer"])
    return {"backend": name, "queue": type(tasks.huey).__name__, "claims": args.claims, "batch": args.batch,
            "lease_seconds": args.lease, "kills": len(kills), "at_kill": kills,
            "seconds_to_finish_after_restart": round(finished, 1), **figures, "job_status": row.status,
            "job_processed": row.processed, "job_succeeded": row.succeeded, "interruptions": row.interruptions,
            "error": row.error}


def report(r: dict) -> None:
    print(f"\n[{r['backend']}, huey {r['queue']}] {r['claims']} claims, batches of {r['batch']}, "
          f"lease {r['lease_seconds']:g} s")
    for n, kill in enumerate(r["at_kill"], 1):
        print(f"  kill {n}: SIGKILL at {kill['processed']} processed ({kill['changed']} claims changed, "
              f"job {kill['status']})")
    print(f"  kills                          {r['kills']}")
    print(f"  time to finish after restart   {r['seconds_to_finish_after_restart']:.1f} s")
    print(f"  claims changed twice           {r['changed_twice']} (must be 0)")
    print(f"  claims left unchanged          {r['unchanged']}")
    print(f"  history rows                   {r['history_rows']} (one per claim: {r['claims']})")
    print(f"  final job status               {r['job_status']} ({r['job_processed']}/{r['claims']} processed, "
          f"{r['job_succeeded']} succeeded, {r['interruptions']} interruption(s))")


def run(args) -> int:
    print(f"work dir {WORK_DIR}")
    results = []
    for name, url in backends(args, WORK_DIR):
        result = scenario(args, name, url)
        report(result)
        results.append(result)
    if args.json:
        print(json.dumps(results))
    bad = [r for r in results if r["job_status"] != "done" or r["changed_twice"] or r["unchanged"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(run_main(run, ARGS, WORK_DIR))
