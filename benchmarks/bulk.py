"""Benchmark of a bulk action: one ASP manager entrusts N claims (default 5,000) to a lawyer.

What it measures, per backend (SQLite file in a temp directory, PostgreSQL
database `gessin_bench_bulk`), on `--runs` fresh sets of N claims in state
`validated` each (loaded with `insert_many`; the load is not measured), after
two untimed warm-up actions on 20 claims:

0. the floor (`bulk_floor.py`): the same change written by hand, doing the work the
   product must and no more: one UPDATE of the claims, with their next deadline; one
   INSERT ... SELECT of their reminder days; one INSERT ... SELECT of their history rows;
   one INSERT of the e-mail's text and one of its recipient rows, one per party. It runs
   on its own fresh claims, in the same loop as the steps below, so that each
   step's median is also printed as a ratio to the floor's ("x floor"; target for
   apply_many: at most 1.5);
1. `workflows.bulk.apply_many("assign", ids, manager, lawyer=...)` on all N ids,
   called directly: wall time, the SQL statements it runs (counted on the
   `peewee` logger, as tests/conftest.QueryCounter), the time the database spent
   executing them (a peewee query hook: execution only, not building the SQL
   or reading the rows), and the time of the e-mail hand-off
   (`workflows.notify`'s dispatch, wired to `tasks.mail.dispatch`, which queues
   huey tasks) with the number of tasks it queued;
2. the same action through the grid, as the manager with the Flask test client:
   POST /admin/claim/action/ on every claim of the filter `state = validated`
   (`bulk_scope=filtered`), with `BULK_INLINE_LIMIT` raised so the request runs
   the action itself;
3. the same POST with the default `BULK_INLINE_LIMIT` (300): the request only
   records a BulkJob, queues it and redirects to /admin/claim/bulk/<id>; then
   the job as the worker would run it, `tasks.bulk.run_bulk_job.call_local`.

After each action it checks that the N claims are `assigned` to the lawyer, due on the
queue limit of Affidata from today with a reminder that day, with N history rows and one outbox e-mail per party (repairer, centre, lawyer) and batch of
500, the three sharing one stored text (the floor: one per party, one text), then empties
the huey queue so nothing is ever sent. The task queue is the app's default:
SqliteHuey in the temp instance directory, or Redis when REDIS_URL is set (then
under the queue name `gessin-bench`, never the real `gessin` queue a worker reads).

Target (product issue): under 5 s for 5,000 claims, statements batched (well
under one per claim). Over target is reported, not an error: the exit status is
non-zero only when something fails (PostgreSQL or Redis unreachable, a claim not
entrusted, a request not answered as expected...).

Usage:
    .venv/bin/python benchmarks/bulk.py [--claims 5000] [--runs 3]
        [--backend sqlite|postgres|both] [--pg-url postgresql://...] [--explain] [--keep]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK_DIR = Path(tempfile.mkdtemp(prefix="gessin-bench-"))
# Before importing the app: config.py writes its generated secret in the instance dir,
# and tasks/__init__.py opens the SQLite task queue there.
os.environ["GESSIN_INSTANCE"] = str(WORK_DIR / "instance")
# What is measured is the hand-off to the queue: tasks must be queued, never run here.
os.environ.pop("HUEY_IMMEDIATE", None)

import tasks  # noqa: E402
from bulk_floor import run_floor  # noqa: E402
from bulk_load import (  # noqa: E402
    EVENT,
    S,
    check_outcome,
    empty_queue,
    load_claims,
    prepare_queue,
    seed_parties,
)
from bulk_measure import Measure, Probe, Timer, explain  # noqa: E402
from common import backends, benchmark_app, print_verdicts, run_main, shown  # noqa: E402
from models import BulkJob, db  # noqa: E402
from tasks.bulk import run_bulk_job  # noqa: E402
from tests import factories  # noqa: E402
from workflows.bulk import BATCH, apply_many  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/gessin_bench_bulk"
TARGET_S = 5.0
TARGET_PER_CLAIM = 0.1  # statements per claim: batched means a few per batch of BULK_BATCH_SIZE claims
TARGET_RATIO = 1.5  # apply_many against the raw-SQL floor measured in the same run
WARM_UP = 20  # claims of the untimed warm-up actions

DIRECT, INLINE, QUEUED, JOB, FLOOR = "direct", "inline", "queued", "job", "floor"
PATH_LABELS = {
    FLOOR: "floor: raw SQL, 7 statements",
    DIRECT: f'apply_many("{EVENT}")',
    INLINE: "admin POST, inline (limit raised)",
    QUEUED: "admin POST, default limit -> job",
    JOB: "worker job (call_local)",
}


def build_app(url: str):
    """The application on an empty, migrated database at `url`."""
    return benchmark_app(url, WORK_DIR, quiet=("gessin", "peewee_migrate", "huey"))


# ---- the steps --------------------------------------------------------------------

def login(client, user) -> None:
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"login": user.login, "password": factories.PASSWORD,
                                           "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"login failed: HTTP {response.status_code}")


def csrf_token(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    if not match:
        raise RuntimeError(f"no CSRF token on {path}")
    return match.group(1)


def filtered_query(app) -> str:
    """The grid's query string for `state = validated` (the filter key looked up in the view)."""
    view = app.extensions["gessin_admin"].views_by_endpoint["claim"]
    keys = {flt.column.name: view.get_filter_arg(i, flt) for i, flt in enumerate(view.get_filters())}
    return urlencode({f"flt0_{keys['status']}": S.VALIDATED})


def run_direct(ids: list[int], parties: dict) -> Measure:
    manager = parties["manager"]
    with db.connection_context(), Probe() as probe, Timer() as timer:
        result = apply_many(EVENT, ids, manager, lawyer=parties["lawyer"], batch_size=parties["batch"])
    if result.skipped or len(result.succeeded) != len(ids):
        raise RuntimeError(f"apply_many: {len(result.succeeded)} done, skipped {result.skipped[:3]}...")
    return Measure(timer, probe, len(ids))


def post_bulk(client, bench: dict):
    return client.post("/admin/claim/action/", data={
        "csrf_token": bench["token"], "action": EVENT, "lawyer": bench["parties"]["lawyer"],
        "bulk_scope": "filtered", "bulk_query": bench["query"], "url": "/admin/claim/"})


def run_inline(app, client, ids: list[int], bench: dict) -> Measure:
    app.config["BULK_INLINE_LIMIT"] = 10 * len(ids)
    try:
        with Probe() as probe, Timer() as timer:
            response = post_bulk(client, bench)
    finally:
        app.config["BULK_INLINE_LIMIT"] = bench["limit"]
    location = response.headers.get("Location", "")
    if response.status_code != 302 or urlsplit(location).path != "/admin/claim/":
        raise RuntimeError(f"inline POST: HTTP {response.status_code} to {location!r}, expected the grid")
    page = client.get(location).get_data(as_text=True)
    if f"{len(ids)} pratiche aggiornate" not in page or "saltat" in page:
        raise RuntimeError(f"inline POST: the grid does not say {len(ids)} claims were updated")
    return Measure(timer, probe, len(ids))


def run_queued(app, client, ids: list[int], bench: dict) -> tuple[Measure, Measure]:
    """The request that queues the job, then the job run as the worker would."""
    with Probe() as probe, Timer() as timer:
        response = post_bulk(client, bench)
    location = response.headers.get("Location", "")
    match = re.fullmatch(r"/admin/claim/bulk/(\d+)", urlsplit(location).path)
    if response.status_code != 302 or not match:
        raise RuntimeError(f"POST above the limit: HTTP {response.status_code} to {location!r}, "
                           "expected /admin/claim/bulk/<id>")
    job_id = int(match.group(1))
    request = Measure(timer, probe, len(ids))
    with Probe() as probe, Timer() as timer:
        outcome = run_bulk_job.call_local(job_id)
    with db.connection_context():
        job = BulkJob.get_by_id(job_id)
    if (outcome, job.status, job.processed, job.succeeded, job.skipped) != ("done", "done", len(ids), len(ids), "[]"):
        raise RuntimeError(f"job {job_id}: {outcome}, {job.status}, {job.processed}/{job.succeeded} of {len(ids)}, "
                           f"error {job.error!r}")
    page = client.get(location)
    if page.status_code != 200 or 'data-status="done"' not in page.get_data(as_text=True):
        raise RuntimeError(f"GET {location}: HTTP {page.status_code}, job not shown as done")
    return request, Measure(timer, probe, len(ids))


def warm_up(app, client, bench: dict) -> None:
    """Two small actions, not timed: templates compiled, task queue and connections opened."""
    parties = bench["parties"]
    for inline in (False, True):
        with app.app_context(), db.connection_context():
            ids, _seconds = load_claims(WARM_UP, parties)
        if inline:
            run_inline(app, client, ids, bench)
        else:
            with app.app_context():
                run_direct(ids, parties)
        with app.app_context():
            check_outcome(ids, parties, BATCH if inline else parties["batch"])
        empty_queue()


# ---- one backend ------------------------------------------------------------------

def run_backend(name: str, url: str, args) -> list[str]:
    """Load, time, check and print one backend; returns what is over target."""
    print(f"\n== {name}: {shown(url)} (load average {os.getloadavg()[0]:.1f})")
    app = build_app(url)
    tasks._app = app  # the worker task runs in this app, on this database
    empty_queue()
    paths = [FLOOR, DIRECT, INLINE] + ([QUEUED, JOB] if args.claims > app.config["BULK_INLINE_LIMIT"] else [])
    results: dict[str, list[Measure]] = {path: [] for path in paths}
    loads = []
    # The HTTP steps run outside any app context of ours: inside one, Flask would reuse it
    # for each request, and `g` (the user, the CSRF token) would leak from one to the next.
    with app.app_context(), db.connection_context():
        parties = seed_parties()
    if args.batch:
        app.config["BULK_BATCH_SIZE"] = args.batch  # the worker's job; apply_many is given it too
    parties["batch"] = app.config["BULK_BATCH_SIZE"]
    print(f"centre #{parties['centre']} (own desk #{parties['desk']}), lawyer #{parties['lawyer']}, "
          f"repairer #{parties['repairer']}, insurer #{parties['insurer']}, manager {parties['manager'].login}")
    client = app.test_client()
    login(client, parties["manager"])
    bench = {"parties": parties, "query": filtered_query(app), "limit": app.config["BULK_INLINE_LIMIT"],
             "token": csrf_token(client, "/admin/claim/")}
    warm_up(app, client, bench)
    for run in range(args.runs):
        for path in paths:
            if path == JOB:
                continue  # measured with QUEUED, on the same claims
            with app.app_context(), db.connection_context():
                ids, load_s = load_claims(args.claims, parties)
            loads.append(load_s)
            if path == FLOOR:
                with app.app_context():
                    results[FLOOR].append(run_floor(ids, parties))
            elif path == DIRECT:
                with app.app_context():
                    results[DIRECT].append(run_direct(ids, parties))
                if args.explain and run == args.runs - 1:  # the largest table
                    explain(results[DIRECT][-1].probe)
            elif path == INLINE:
                results[INLINE].append(run_inline(app, client, ids, bench))
            else:
                request, job = run_queued(app, client, ids, bench)
                results[QUEUED].append(request)
                results[JOB].append(job)
            with app.app_context():
                # apply_many tells per batch (the grid's, of BATCH: it runs at most BULK_INLINE_LIMIT);
                # a job, once when it ends, as the floor
                check_outcome(ids, parties, {DIRECT: parties["batch"], INLINE: BATCH}.get(path))
            empty_queue()
    db.close()
    print(f"loaded {len(loads)} sets of {args.claims:,} validated claims, {statistics.mean(loads):.1f} s each "
          f"(not measured)")
    if QUEUED not in results:
        print(f"note: {args.claims} claims <= BULK_INLINE_LIMIT {bench['limit']}: the grid runs them inline, "
              "no worker job to time")
    return report(results, args.claims, bench["limit"])


def report(results: dict[str, list[Measure]], n: int, limit: int) -> list[str]:
    print(f"{'step':<36} {'runs s':<20} {'median s':>8} {'x floor':>7} {'CPU s':>6} {'SQL s':>6} "
          f"{'hand-off s':>13} {'stmts':>6} {'/claim':>7} {'tasks':>7}")
    over = []
    floor = statistics.median(m.seconds for m in results[FLOOR]) if results.get(FLOOR) else None
    for path, measures in results.items():
        median = statistics.median(m.seconds for m in measures)
        mid = sorted(measures, key=lambda m: m.seconds)[len(measures) // 2]
        stmts = max(m.statements for m in measures)
        per_claim = stmts / n
        runs = " ".join(f"{m.seconds:.2f}" for m in measures)
        share = f"{mid.handoff_seconds:.2f} ({mid.handoff_seconds / mid.seconds:.0%})" if mid.handoff_calls else "-"
        same = len({m.statements for m in measures}) == 1
        label = PATH_LABELS[path].replace("default limit", f"limit {limit}")
        ratio = f"{median / floor:.2f}" if floor and path != QUEUED else "-"
        print(f"{label:<36} {runs:<20} {median:>8.2f} {ratio:>7} {mid.cpu_seconds:>6.2f} {mid.sql_seconds:>6.2f} "
              f"{share:>13} {stmts:>6}{'' if same else '*'} {per_claim:>7.3f} {mid.enqueued:>7,}")
        if path == DIRECT and floor and median / floor > TARGET_RATIO:
            over.append(f"{label}: {median / floor:.2f} x the raw-SQL floor (target <= {TARGET_RATIO})")
        if median >= TARGET_S or per_claim >= TARGET_PER_CLAIM:
            over.append(f"{label}: {median:.2f} s, {per_claim:.3f} statements/claim")
        if mid.handoff_calls:
            print(f"  hand-off: {mid.handoff_calls} dispatch calls for {mid.handoff_ids:,} e-mails, "
                  f"{mid.enqueued:,} huey tasks queued ({mid.enqueued / max(mid.handoff_ids, 1):.2f} per e-mail), "
                  f"{mid.handoff_seconds / max(mid.enqueued, 1) * 1e6:.0f} us per task; "
                  f"without it {mid.seconds - mid.handoff_seconds:.2f} s")
    if any(len({m.statements for m in ms}) > 1 for ms in results.values()):
        print("* statement count differs between runs: the highest is shown")
    return over


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=5000, help="claims per bulk action (default 5000)")
    parser.add_argument("--runs", type=int, default=3, help="runs, each on fresh claims (default 3)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"default {DEFAULT_PG_URL}")
    parser.add_argument("--batch", type=int, default=None,
                        help="claims per batch of apply_many and of the worker's job (BULK_BATCH_SIZE; default 2500)")
    parser.add_argument("--explain", action="store_true",
                        help="print apply_many's statements by kind, with the plans of its SELECTs and UPDATEs")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (SQLite file) at the end")
    args = parser.parse_args(argv)
    if args.claims < 1 or args.runs < 1 or (args.batch is not None and args.batch < 1):
        parser.error("--claims, --runs and --batch must be positive")
    return args


def main(argv=None) -> int:
    return run_main(run, parse_args(argv), WORK_DIR)


def run(args) -> int:
    chosen = backends(args, WORK_DIR)
    queue = prepare_queue()
    batches = args.batch or "BULK_BATCH_SIZE"
    print(f"work dir {WORK_DIR}; {args.claims:,} claims per action, {args.runs} runs, batches of {batches}; "
          f"target < {TARGET_S:.0f} s and < {TARGET_PER_CLAIM} statements per claim")
    print(f"task queue: {queue}")
    verdicts = [(name, run_backend(name, url, args)) for name, url in chosen]
    return print_verdicts(verdicts)


if __name__ == "__main__":
    sys.exit(main())
