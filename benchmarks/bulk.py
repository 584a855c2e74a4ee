"""Benchmark of a bulk action: one ASP manager entrusts N claims (default 5,000) to a lawyer.

What it measures, per backend (SQLite file in a temp directory, PostgreSQL
database `gessin_bench_bulk`), on `--runs` fresh sets of N claims in state
`validated` each (loaded with `insert_many`; the load is not measured), after
two untimed warm-up actions on 20 claims:

0. the floor: the same change in four statements written by hand (one UPDATE of the
   claims, one INSERT ... SELECT of their history rows, one INSERT of the e-mail's text,
   one INSERT of its recipient rows, one per party), on its own fresh claims, in the same loop as the steps below, so that each
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

After each action it checks that the N claims are `assigned` to the lawyer, with
N history rows and one outbox e-mail per party (repairer, centre, lawyer) and batch of
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
import datetime as dt
import logging
import os
import re
import statistics
import sys
import tempfile
import time
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

import peewee as pw  # noqa: E402
from huey.storage import RedisStorage  # noqa: E402
from redis.exceptions import RedisError  # noqa: E402

import tasks  # noqa: E402
from common import backends, benchmark_app, print_verdicts, run_main, shown  # noqa: E402
from models import (  # noqa: E402
    BulkJob,
    Claim,
    ClaimCounter,
    ClaimStatus,
    OutboundEmail,
    OutboundMessage,
    Role,
    StatusChange,
    db,
    is_postgres,
    utcnow,
)
from tasks.bulk import run_bulk_job  # noqa: E402
from tests import factories  # noqa: E402
from workflows import notify  # noqa: E402
from workflows.bulk import BATCH, apply_many  # noqa: E402
from workflows.parties import ensure_own_desk  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/gessin_bench_bulk"
BENCH_QUEUE = "gessin-bench"
TARGET_S = 5.0
TARGET_PER_CLAIM = 0.1  # statements per claim: batched means a few per batch of BATCH claims
TARGET_RATIO = 1.5  # apply_many against the raw-SQL floor measured in the same run
LOAD_BATCH = 500
WARM_UP = 20  # claims of the untimed warm-up actions
EVENT = "assign"
S = ClaimStatus

DIRECT, INLINE, QUEUED, JOB, FLOOR = "direct", "inline", "queued", "job", "floor"
PATH_LABELS = {
    FLOOR: "floor: raw SQL, 4 statements",
    DIRECT: f'apply_many("{EVENT}")',
    INLINE: "admin POST, inline (limit raised)",
    QUEUED: "admin POST, default limit -> job",
    JOB: "worker job (call_local)",
}


class Probe(logging.Handler):
    """While active: the SQL statements peewee runs (a handler on the `peewee` logger,
    as tests/conftest.QueryCounter), the time the database spent executing them (a
    peewee query hook), and the e-mail hand-off (notify's dispatch, wrapped): its
    time, calls, e-mail ids, and the huey tasks it left in the queue."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements: list = []
        self.sql_seconds = 0.0
        self.durations: list[float] = []
        self.handoff_seconds = 0.0
        self.handoff_calls = 0
        self.handoff_ids = 0
        self.enqueued = 0

    def emit(self, record):
        self.statements.append(record.msg)

    def _hook(self, event):
        self.sql_seconds += event.duration
        self.durations.append(event.duration)

    def _dispatch(self, email_ids):
        started = time.perf_counter()
        try:
            self._inner_dispatch(email_ids)
        finally:
            self.handoff_seconds += time.perf_counter() - started
            self.handoff_calls += 1
            self.handoff_ids += len(email_ids)

    def __enter__(self):
        self._queued = tasks.huey.pending_count()
        logger = logging.getLogger("peewee")
        self._saved = logger.level, logger.propagate
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # keep the SQL off the console
        logger.addHandler(self)
        db.obj.query_hooks.append(self._hook)
        self._inner_dispatch = notify._dispatch
        notify._dispatch = self._dispatch
        return self

    def __exit__(self, *exc):
        notify._dispatch = self._inner_dispatch
        db.obj.query_hooks.remove(self._hook)
        logger = logging.getLogger("peewee")
        logger.removeHandler(self)
        level, logger.propagate = self._saved
        logger.setLevel(level)  # setLevel, not .level =: it clears the isEnabledFor cache
        self.enqueued = tasks.huey.pending_count() - self._queued

    @property
    def count(self) -> int:
        return len(self.statements)


class Timer:
    """Wall time, and CPU time of this process (threads included; not the database server's)."""

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._wall
        self.cpu_seconds = time.process_time() - self._cpu


class Measure:
    """One timed step of one run."""

    def __init__(self, timer: Timer, probe: Probe, claims: int):
        self.seconds = timer.seconds
        self.cpu_seconds = timer.cpu_seconds
        self.statements = probe.count
        self.sql_seconds = probe.sql_seconds
        self.handoff_seconds = probe.handoff_seconds
        self.handoff_calls = probe.handoff_calls
        self.handoff_ids = probe.handoff_ids
        self.enqueued = probe.enqueued
        self.per_claim = probe.count / claims
        self.probe = probe  # its statements, for --explain


# ---- databases and queue ----------------------------------------------------------





def prepare_queue() -> str:
    """The app's task queue, emptied; on Redis under a queue name of the benchmark's own,
    so a running worker never gets (nor loses) a task. Returns a description."""
    huey = tasks.huey
    if isinstance(huey.storage, RedisStorage):
        huey.name = BENCH_QUEUE
        huey.storage = huey.create_storage()
        try:
            huey.storage.conn.ping()
        except RedisError as exc:
            sys.exit(f"error: Redis not reachable at {shown(os.environ.get('REDIS_URL', ''))}: {exc}")
        label = f"RedisHuey {shown(os.environ['REDIS_URL'])}, queue key {huey.storage.queue_key}"
    else:
        label = f"{type(huey).__name__} {huey.storage.filename}"
    huey.storage.flush_queue()
    return label


def build_app(url: str):
    """The application on an empty, migrated database at `url`."""
    return benchmark_app(url, WORK_DIR, quiet=("gessin", "peewee_migrate", "huey"))


# ---- data -----------------------------------------------------------------------

def seed_parties() -> dict:
    """A centre with its own desk, a lawyer working for it, a repairer, an insurer and
    the centre's manager."""
    centre = factories.centre()
    desk = ensure_own_desk(centre)
    lawyer = factories.lawyer(centre)  # with its LawyerCentre row
    repairer = factories.repairer()
    insurer = factories.insurer()
    manager = factories.user(Role.ASP_MANAGER, login="bench-manager", asp_centre=centre)
    return {
        "centre": centre.id, "desk": desk.id, "lawyer": lawyer.id, "repairer": repairer.id,
        "insurer": insurer.id, "manager": manager,
        "emails": {repairer.email, centre.email, lawyer.email}, "seq": 0,
    }


def load_claims(n: int, parties: dict) -> tuple[list[int], float]:
    """Insert `n` fresh claims in state `validated`, then ANALYZE (VACUUM ANALYZE on
    PostgreSQL); returns their ids and the seconds it took."""
    started = time.perf_counter()
    now = utcnow().replace(microsecond=0)
    year, first = now.year, parties["seq"] + 1
    before = Claim.select(pw.fn.MAX(Claim.id)).scalar() or 0
    rows = []
    for seq in range(first, first + n):
        received = now - dt.timedelta(minutes=first + n - seq)
        rows.append(dict(
            number=f"{year}/{seq:06d}", source="web", received_at=received, repairer=parties["repairer"],
            asp_centre=parties["centre"], insurer=parties["insurer"], status=S.VALIDATED,
            status_since=received + dt.timedelta(seconds=30), version=1, customer_name=f"Cliente {seq}",
            accident_date=(received - dt.timedelta(days=3)).date(), vehicle_a_plate=factories.plate(),
            vehicle_b_plate=factories.plate(), complete_since=received.date(), created_at=received,
            updated_at=received,
        ))
    with db.atomic():
        for start in range(0, n, LOAD_BATCH):
            Claim.insert_many(rows[start:start + LOAD_BATCH]).execute()
        last = first + n - 1
        (ClaimCounter.insert(year=year, last=last)  # so a claim opened later gets the next number
         .on_conflict(conflict_target=[ClaimCounter.year], update={ClaimCounter.last: last}).execute())
    parties["seq"] = last
    # PostgreSQL: VACUUM too, so autovacuum does not start in the middle of the timings.
    db.execute_sql("VACUUM ANALYZE" if is_postgres() else "ANALYZE")
    ids = [row.id for row in Claim.select(Claim.id).where(Claim.id > before).order_by(Claim.id)]
    if len(ids) != n or ids[-1] - ids[0] + 1 != n:
        raise RuntimeError(f"loaded {len(ids)} claims, not {n} consecutive ones")
    return ids, time.perf_counter() - started


def check_outcome(ids: list[int], parties: dict, per_batch: bool = True) -> None:
    """All the claims entrusted to the lawyer, with their history rows and e-mails."""
    n, lo, hi = len(ids), ids[0], ids[-1]
    with db.connection_context():
        states = dict(Claim.select(Claim.status, pw.fn.COUNT(Claim.id)).where(Claim.id.between(lo, hi))
                      .where(Claim.lawyer == parties["lawyer"]).group_by(Claim.status).tuples())
        history = (StatusChange.select().where(StatusChange.claim.between(lo, hi), StatusChange.event == EVENT,
                                               StatusChange.to_status == S.ASSIGNED).count())
        seen = parties.get("outbox_seen", 0)  # the e-mails of this action: one per party and batch
        emails = dict(OutboundEmail.select(OutboundEmail.recipients, pw.fn.COUNT(OutboundEmail.id))
                      .where(OutboundEmail.id > seen).group_by(OutboundEmail.recipients).tuples())
        texts = (OutboundMessage.select().join(OutboundEmail).where(OutboundEmail.id > seen)
                 .distinct().count())
        parties["outbox_seen"] = OutboundEmail.select(pw.fn.MAX(OutboundEmail.id)).scalar() or seen
    if states != {S.ASSIGNED: n}:
        raise RuntimeError(f"expected {n} claims assigned to lawyer #{parties['lawyer']}, found {states}")
    if history != n:
        raise RuntimeError(f"expected {n} history rows, found {history}")
    batches = -(-n // BATCH) if per_batch else 1
    expected = {address: batches for address in parties["emails"]}
    if emails != expected:
        raise RuntimeError(f"expected {batches} e-mail(s), one per batch, to each of {sorted(expected)}; "
                           f"found {emails}")
    if texts != batches:  # the three parties are told about the same claims: one text
        raise RuntimeError(f"expected {batches} stored text(s), one per batch shared by the parties; found {texts}")


def empty_queue() -> None:
    """Drop the queued deliveries (and jobs): nothing is ever sent."""
    tasks.huey.storage.flush_queue()
    if tasks.huey.pending_count():
        raise RuntimeError("the task queue could not be emptied")


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
        result = apply_many(EVENT, ids, manager, lawyer=parties["lawyer"])
    if result.skipped or len(result.succeeded) != len(ids):
        raise RuntimeError(f"apply_many: {len(result.succeeded)} done, skipped {result.skipped[:3]}...")
    return Measure(timer, probe, len(ids))


def run_floor(ids: list[int], parties: dict) -> Measure:
    """The least the database must do for the same change, in SQL written by hand: one
    UPDATE of the claims, one INSERT ... SELECT of their history rows, one INSERT of the
    e-mail's text listing the claims, one INSERT of its recipient rows, one per party.
    Nothing of ours: no rules, no deadlines, no rendering (the body is the claims' numbers)."""
    manager, p, now = parties["manager"], db.param, utcnow()
    marks = ", ".join([p] * len(ids))
    with db.connection_context(), Probe() as probe, Timer() as timer:
        with db.atomic():
            db.execute_sql(f'UPDATE "claim" SET "status" = {p}, "lawyer_id" = {p}, "version" = "version" + 1, '
                           f'"status_since" = {p}, "updated_at" = {p} WHERE "id" IN ({marks}) AND "status" = {p}',
                           [S.ASSIGNED, parties["lawyer"], now, now, *ids, S.VALIDATED])
            db.execute_sql(f'INSERT INTO "status_change" ("created_at", "claim_id", "at", "actor_id", "actor_label", '
                           f'"event", "from_status", "to_status") SELECT {p}, "id", {p}, {p}, {p}, {p}, {p}, {p} '
                           f'FROM "claim" WHERE "id" IN ({marks})',
                           [now, now, manager.id, str(manager), EVENT, S.VALIDATED, S.ASSIGNED, *ids])
            numbers = "\n".join(number for (number,) in db.execute_sql(
                f'SELECT "number" FROM "claim" WHERE "id" IN ({marks})', ids).fetchall())
            [(message_id,)] = db.execute_sql(
                f'INSERT INTO "outbound_message" ("created_at", "subject", "body") VALUES ({p}, {p}, {p}) '
                'RETURNING "id"', [now, f"{len(ids)} pratiche affidate", numbers]).fetchall()
            addresses = sorted(parties["emails"])
            db.execute_sql('INSERT INTO "outbound_email" ("created_at", "recipients", "message_id", "status", '
                           '"attempts", "next_attempt_at", "possible_duplicate") VALUES '
                           + ", ".join([f"({p}, {p}, {p}, {p}, 0, {p}, {p})"] * len(addresses)),
                           [v for address in addresses for v in (now, address, message_id, "pending", now, False)])
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
            check_outcome(ids, parties)
        empty_queue()


# ---- --explain ----------------------------------------------------------------------

def shape(sql: str) -> str:
    """The statement with its lists of parameters collapsed: one line per kind."""
    sql = re.sub(r"(?:\?|%s)(?:, (?:\?|%s))+", "...", sql)
    sql = re.sub(r"\((?:\?|%s|\.\.\.)\)(?:, \((?:\?|%s|\.\.\.)\))+", "(...), ...", sql)
    return re.sub(r"^SELECT .*? FROM ", "SELECT ... FROM ", sql)


def explain(probe: Probe) -> None:
    """Each kind of statement of one apply_many: how many, their database time, and the
    plan of the first one of each SELECT or UPDATE kind (PostgreSQL: EXPLAIN ANALYZE,
    an UPDATE inside a transaction rolled back; SQLite: EXPLAIN QUERY PLAN)."""
    kinds: dict[str, list] = {}
    for (sql, params), seconds in zip(probe.statements, probe.durations, strict=True):
        kinds.setdefault(shape(sql), [0, 0.0, sql, params])
        kinds[shape(sql)][0] += 1
        kinds[shape(sql)][1] += seconds
    print(f"  statements of apply_many by kind ({probe.count} in all):")
    with db.connection_context():
        for text, (count, seconds, sql, params) in kinds.items():
            print(f"  {count:>5} x {seconds * 1000:>8.1f} ms  {text[:300]}")
            if not sql.startswith(("SELECT", "UPDATE")):
                continue
            with db.atomic() as txn:
                prefix = "EXPLAIN ANALYZE " if is_postgres() else "EXPLAIN QUERY PLAN "
                plan = db.execute_sql(prefix + sql, params).fetchall()
                txn.rollback()
            print_plan([str(row[-1]) for row in plan])


def print_plan(lines: list[str]) -> None:
    """The plan, long lines cut, and a block of lines repeated but for its numbers
    (PostgreSQL's 500 index probes of an IN list) printed once with its count."""
    keys = [re.sub(r"\d+(?:\.\d+)?", "N", line) for line in lines]
    i = 0
    while i < len(lines):
        period, times = 1, 1
        for p in (1, 2, 3):
            k = 1
            while keys[i + k * p:i + (k + 1) * p] == keys[i:i + p]:
                k += 1
            if k > times:
                period, times = p, k
        for line in lines[i:i + period]:
            print(f"                        {line if len(line) <= 200 else line[:200] + '...'}")
        if times > 1:
            indent = " " * (len(lines[i]) - len(lines[i].lstrip()))
            print(f"                        {indent}[the {'line' if period == 1 else f'{period} lines'} above "
                  f"{times} times in all, numbers differing]")
        i += period * times


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
                check_outcome(ids, parties, per_batch=path != FLOOR)
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
    parser.add_argument("--explain", action="store_true",
                        help="print apply_many's statements by kind, with the plans of its SELECTs and UPDATEs")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (SQLite file) at the end")
    args = parser.parse_args(argv)
    if args.claims < 1 or args.runs < 1:
        parser.error("--claims and --runs must be positive")
    return args


def main(argv=None) -> int:
    return run_main(run, parse_args(argv), WORK_DIR)


def run(args) -> int:
    chosen = backends(args, WORK_DIR)
    queue = prepare_queue()
    print(f"work dir {WORK_DIR}; {args.claims:,} claims per action, {args.runs} runs, batches of {BATCH}; "
          f"target < {TARGET_S:.0f} s and < {TARGET_PER_CLAIM} statements per claim")
    print(f"task queue: {queue}")
    verdicts = [(name, run_backend(name, url, args)) for name, url in chosen]
    return print_verdicts(verdicts)


if __name__ == "__main__":
    sys.exit(main())
