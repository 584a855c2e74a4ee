"""Benchmark of the deadline reminders: one sweep and the digests over a large claim table.

Per backend (SQLite file in a temp directory, PostgreSQL database `gessin_bench_sweep`)
and per size (default 100,000 then 1,000,000 claims):

1. a fresh migrated database; 20 ASP centres (each with its own desk), 100 lawyers,
   50 repairers and 2 call-centre users; then the claims in one INSERT ... SELECT
   (PostgreSQL `generate_series`, SQLite a recursive CTE): 2% due today (half in their
   warning days, half past their deadline, already warned), 58% open with a deadline
   weeks away, 40% closed; their reminder days (`reminder_due`); then ANALYZE;
2. times `workflows.reminders.sweep()` then `send_digests()` (digest hour 0), counting the
   SQL statements (a handler on the `peewee` logger, as benchmarks/grid.py);
3. puts the due claims back as they were, and runs both again under tracemalloc for the
   peak memory of the sweep and of the digests (tracemalloc slows Python: this run is
   not the timed one);
4. checks the outcome: one reminder per due claim and recipient, a digest per
   recipient with one e-mail per address, and a second sweep that finds nothing.

Target (issue #11): one sweep under 2 s, memory flat as the table grows. The sweep is
the work of every quarter hour; the digests are written once a day (from
`REMINDER_DIGEST_HOUR`), so their time is printed beside it, and their sum, but the
verdict is the sweep's.

Usage:
    .venv/bin/python benchmarks/sweep.py [--claims 100000,1000000] [--backend sqlite|postgres|both]
        [--pg-url postgresql://postgres@127.0.0.1:5432/gessin_bench_sweep] [--keep]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK_DIR = Path(tempfile.mkdtemp(prefix="gessin-bench-"))
# Before importing the app: the instance dir (secret, huey's SQLite queue) is the benchmark's
# own, and the e-mails' delivery tasks never reach a real worker's Redis queue.
os.environ["GESSIN_INSTANCE"] = str(WORK_DIR / "instance")
for name in ("REDIS_URL", "HUEY_IMMEDIATE"):
    os.environ.pop(name, None)

from common import QueryCounter, backends, benchmark_app, print_verdicts, run_main, shown  # noqa: E402
from models import DeadlineReminder, Lawyer, OutboundEmail, OutboundMessage, ReminderDigest, Role, db, is_postgres  # noqa: E402
from tests import factories  # noqa: E402
from workflows import clock, reminders  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/gessin_bench_sweep"
TARGET_SECONDS = 2.0
PROFILE = False
CENTRES, LAWYERS, REPAIRERS = 20, 100, 50
OPEN_STATES = ("received", "incomplete", "validated", "assigned", "filed", "partially_reimbursed")
LAWYER_STATES = ("assigned", "filed", "partially_reimbursed")


def build_app(url: str):
    """The application on an empty, migrated database at `url`."""
    return benchmark_app(url, WORK_DIR)


def seed_parties() -> dict:
    centres = [factories.centre() for _ in range(CENTRES)]
    lawyers = [factories.lawyer(centres[i % CENTRES]).id for i in range(LAWYERS)]
    desks = [Lawyer.get(Lawyer.own_centre == c).id for c in centres]
    repairers = [factories.repairer().id for _ in range(REPAIRERS)]
    for n in range(2):
        factories.user(Role.ADMIN, login=f"bench-callcenter-{n}", email=f"callcenter{n}@example.it")
    return {"centres": [c.id for c in centres], "lawyers": lawyers + desks, "repairers": repairers}


def _pick(ids: list[int], expr: str) -> str:
    """SQL choosing one of `ids` by `expr` (an integer expression of the row number)."""
    return "CASE (" + expr + f") % {len(ids)} " + " ".join(f"WHEN {i} THEN {v}" for i, v in enumerate(ids)) + " END"


def fill_claims(n: int, parties: dict, today: dt.date) -> float:
    """N claims in one INSERT ... SELECT; returns the seconds it took (with ANALYZE)."""
    pg = is_postgres()

    def day(offset: str) -> str:  # today + offset days, as a DATE
        return f"(DATE '{today.isoformat()}' + ({offset}))" if pg else f"date('{today.isoformat()}', printf('%+d days', {offset}))"

    kind = "g % 100"  # 0: warned today, 1: past its deadline, 2-59 open later, 60-99 closed
    states = "CASE (g / 100) % 6 " + " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(OPEN_STATES)) + " END"
    status = f"CASE WHEN {kind} >= 60 THEN CASE g % 3 WHEN 0 THEN 'closed' WHEN 1 THEN 'reimbursed' ELSE 'dropped' END ELSE {states} END"
    lawyer = f"CASE WHEN {kind} < 60 AND ({states}) IN ({', '.join(repr(s) for s in LAWYER_STATES)}) THEN {_pick(parties['lawyers'], 'g / 100 * 7 + g')} END"
    due = f"CASE WHEN {kind} = 0 THEN {day('2')} WHEN {kind} = 1 THEN {day('-2')} WHEN {kind} < 60 THEN {day('10 + g % 50')} END"
    warn = f"CASE WHEN {kind} = 0 THEN {day('-1')} WHEN {kind} = 1 THEN {day('-5')} WHEN {kind} < 60 THEN {day('7 + g % 50')} END"
    kinds = f"CASE WHEN {kind} < 60 THEN CASE g % 3 WHEN 0 THEN 'queue' WHEN 1 THEN 'offer' ELSE 'prescription' END END"
    now = "now()" if pg else "datetime('now')"
    number = "'B' || lpad(g::text, 9, '0')" if pg else "'B' || printf('%09d', g)"
    columns = ('"number", "source", "received_at", "repairer_id", "asp_centre_id", "lawyer_id", "status", '
               '"status_since", "version", "vehicle_count", "vehicle_a_country", "vehicle_b_country", "injuries", '
               '"signed_by_both", "updated_at", "created_at", "next_due_on", "next_due_kind", "next_warn_on"')
    false = "false" if pg else "0"
    select = (f"SELECT {number}, 'wincar', {now}, {_pick(parties['repairers'], 'g')}, {_pick(parties['centres'], 'g / 100 + g')}, "
              f"{lawyer}, {status}, {now}, 1, 2, 'I', 'I', {false}, {false}, {now}, {now}, {due}, {kinds}, {warn}")
    if pg:
        sql = f'INSERT INTO "claim" ({columns}) {select} FROM generate_series(1, {n}) AS g'
    else:
        sql = (f'WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) '
               f'INSERT INTO "claim" ({columns}) {select} FROM s')
    started = time.perf_counter()
    with db.atomic():
        db.execute_sql(sql.replace("%", "%%") if pg else sql)  # psycopg2 reads % as a parameter
        schedule_due(today)
    if pg:
        db.execute_sql("VACUUM ANALYZE")
    else:
        db.execute_sql("ANALYZE")
    return time.perf_counter() - started


def schedule_due(today: dt.date, where: str = "") -> None:
    """The reminder rows of the open claims with a deadline: the warning day, or yesterday for
    those already past their deadline (warned already); `where` narrows the claims."""
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    db.execute_sql(
        'INSERT INTO "reminder_due" ("claim_id", "remind_on", "due_on", "warn_on") '
        f"SELECT \"id\", CASE WHEN \"next_due_on\" < '{today.isoformat()}' THEN '{yesterday}' ELSE \"next_warn_on\" END, "
        f'"next_due_on", "next_warn_on" FROM "claim" WHERE "next_due_on" IS NOT NULL {where} '
        'ON CONFLICT ("claim_id") DO UPDATE SET "remind_on" = EXCLUDED."remind_on"')


def due_claims() -> int:
    return db.execute_sql('SELECT COUNT(*) FROM "reminder_due" WHERE "remind_on" <= %s' % db.param,
                          [clock.today().isoformat()]).fetchone()[0]


def reset(today: dt.date) -> None:
    """The due claims as they were loaded, no reminder, digest or e-mail."""
    with db.atomic():
        for table in ("deadline_reminder", "reminder_digest", "outbound_email"):
            db.execute_sql(f'DELETE FROM "{table}"')
        modulo = "%%" if is_postgres() else "%"
        schedule_due(today, f'AND "id" {modulo} 100 IN (0, 1) AND "status" NOT IN (\'closed\', \'reimbursed\', \'dropped\')')


def run_once(today: dt.date) -> dict:
    started = time.perf_counter()
    with QueryCounter() as counter:
        found = reminders.sweep(today)
        swept = time.perf_counter()
        sent = reminders.send_digests(today, digest_hour=0)
    done = time.perf_counter()
    return {"sweep": swept - started, "digests": done - swept, "total": done - started, "statements": counter.count,
            "claims": found.claims, "reminders": found.reminders, "sent": sent}


def profiled(today: dt.date) -> None:
    """--profile: the sweep and the digests under cProfile, the top functions by own time."""
    import cProfile
    import pstats
    profile = cProfile.Profile()
    profile.enable()
    reminders.sweep(today)
    reminders.send_digests(today, digest_hour=0)
    profile.disable()
    pstats.Stats(profile).sort_stats("tottime").print_stats(25)


def run_traced(today: dt.date) -> tuple[int, int]:
    tracemalloc.start()
    reminders.sweep(today)
    sweep_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    reminders.send_digests(today, digest_hour=0)
    digest_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return sweep_peak, digest_peak


def check(result: dict, due: int) -> None:
    if result["claims"] != due:
        raise RuntimeError(f"the sweep read {result['claims']} claims, {due} were due")
    if DeadlineReminder.select().count() != result["reminders"] or result["reminders"] < due:
        raise RuntimeError("reminders missing")
    recipients = DeadlineReminder.select(DeadlineReminder.recipient).distinct().count()
    if ReminderDigest.select().count() != recipients or DeadlineReminder.select().where(
            DeadlineReminder.digest.is_null()).count():
        raise RuntimeError("a recipient without its digest")
    if OutboundEmail.select().count() != result["sent"] + 1:  # the call centre's digest goes to its two users
        raise RuntimeError(f"{OutboundEmail.select().count()} e-mails for {result['sent']} digests")
    if OutboundMessage.select().count() != result["sent"]:  # its text stored once for both
        raise RuntimeError(f"{OutboundMessage.select().count()} stored texts for {result['sent']} digests")
    again = reminders.sweep(clock.today())
    if again.claims or again.reminders:
        raise RuntimeError("a second sweep found claims again")


def bench(name: str, url: str, sizes: list[int]) -> list[str]:
    over = []
    today = clock.today()
    for n in sizes:
        app = build_app(url.replace("bench.db", f"bench-{n}.db"))  # SQLite: a fresh file per size
        with app.app_context(), db.connection_context():
            parties = seed_parties()
            loaded = fill_claims(n, parties, today)
            due = due_claims()
            result = run_once(today)
            check(result, due)
            reset(today)
            sweep_peak, digest_peak = run_traced(today)
            if PROFILE:
                reset(today)
                profiled(today)
        print(f"{name:8} {n:>9,} claims (loaded in {loaded:5.1f} s), {due:,} due: sweep {result['sweep']:.2f} s + "
              f"digests {result['digests']:.2f} s = {result['total']:.2f} s; {result['statements']} statements; "
              f"{result['reminders']:,} reminders, {result['sent']} digests; peak memory sweep "
              f"{sweep_peak / 1024:,.0f} KiB, digests {digest_peak / 1024:,.0f} KiB", flush=True)
        if result["sweep"] > TARGET_SECONDS:
            over.append(f"{n:,} claims: sweep {result['sweep']:.2f} s")
    return over


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", default="100000,1000000",
                        help="claim counts, comma-separated, each on a fresh database (default 100000,1000000)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"default {DEFAULT_PG_URL} (its name must contain bench)")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (SQLite file) at the end")
    parser.add_argument("--profile", action="store_true", help="then run both again under cProfile")
    args = parser.parse_args(argv)
    args.sizes = [int(part.replace("_", "")) for part in args.claims.split(",") if part.strip()]
    return args


def run(args) -> int:
    global PROFILE
    PROFILE = args.profile
    print(f"work dir {WORK_DIR}; target: one sweep under {TARGET_SECONDS:.0f} s (the digests, once a day, "
          "are timed beside it)", flush=True)
    verdicts = []
    for name, url in backends(args, WORK_DIR):
        print(f"-- {name}: {shown(url)}", flush=True)
        verdicts.append((name, bench(name, url, args.sizes)))
    return print_verdicts(verdicts)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_main(run, args, WORK_DIR)


if __name__ == "__main__":
    sys.exit(main())
