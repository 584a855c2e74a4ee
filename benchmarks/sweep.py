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
3. checks the outcome: one reminder per due claim and recipient, a digest per
   recipient with one e-mail per address, and a second sweep that finds nothing;
4. beside it, in the same run and interleaved (`--runs` pairs, ours first in even pairs,
   the floor first in odd ones), the floor of the same work (benchmarks/sweep_floor.py):
   the same rows written by a few set-based statements sent by hand; before each side the
   due claims are put back as they were loaded, not timed, so both meet the same fresh due
   set, and each side's outcome must equal that of our first sweep. Printed: each side's
   times, their medians and "x floor", ours over the floor's;
5. puts the due claims back once more, and runs ours under tracemalloc for the peak
   memory of the sweep and of the digests (tracemalloc slows Python: this run is not
   timed).

Target (issue #11): one sweep under 2 s (the median of ours), memory flat as the table
grows. The sweep is the work of every quarter hour; the digests are written once a day
(from `REMINDER_DIGEST_HOUR`), so their time is printed beside it, and their sum, but the
verdict is the sweep's. The ratio to the floor has no target: it is printed so that a
regression shows as a ratio. PostgreSQL through peewee's pool, as the README tells
production to run.

Usage:
    .venv/bin/python benchmarks/sweep.py [--claims 100000,1000000] [--backend sqlite|postgres|both] [--runs 3]
        [--pg-url postgresql+pool://postgres@127.0.0.1:5432/gessin_bench_sweep?max_connections=8] [--profile] [--keep]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
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
from sweep_floor import clear_outcome, digests_floor, outcome, sweep_floor  # noqa: E402
from models import DeadlineReminder, Lawyer, OutboundEmail, OutboundMessage, ReminderDigest, Role, db, is_postgres  # noqa: E402
from tests import factories  # noqa: E402
from workflows import clock, reminders  # noqa: E402

# The production connection: peewee's pool, as the README tells production to configure it.
DEFAULT_PG_URL = "postgresql+pool://postgres@127.0.0.1:5432/gessin_bench_sweep?max_connections=8"
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
    """The due claims as they were loaded, no reminder, digest or e-mail (PostgreSQL: the
    touched tables vacuumed, so each side meets the same tables)."""
    clear_outcome()
    with db.atomic():
        modulo = "%%" if is_postgres() else "%"
        schedule_due(today, f'AND "id" {modulo} 100 IN (0, 1) AND "status" NOT IN (\'closed\', \'reimbursed\', \'dropped\')')
    if is_postgres():
        db.execute_sql('VACUUM ANALYZE "reminder_due", "deadline_reminder", "reminder_digest", "outbound_email", '
                       '"outbound_message"')


def timed(sweep, digests, today: dt.date) -> dict:
    """One sweep then the digests (ours or the floor's), each timed, the statements counted."""
    started = time.perf_counter()
    with QueryCounter() as counter:
        found = sweep(today)
        swept = time.perf_counter()
        sent = digests(today)
    done = time.perf_counter()
    return {"sweep": swept - started, "digests": done - swept, "total": done - started, "statements": counter.count,
            "found": found, "sent": sent}


def run_once(today: dt.date) -> dict:
    result = timed(reminders.sweep, lambda day: reminders.send_digests(day, digest_hour=0), today)
    found = result.pop("found")
    return {**result, "claims": found.claims, "reminders": found.reminders}


def run_floor(today: dt.date) -> dict:
    result = timed(sweep_floor, digests_floor, today)
    return {**result, "reminders": result.pop("found")}


def interleaved(today: dt.date, first: dict, runs: int) -> tuple[list[dict], list[dict]]:
    """`runs` pairs of our sweep and the floor's, `first` (our checked sweep) the first of
    ours; before each other side the due claims are put back (not timed), and each side
    must leave what our first sweep left."""
    expected = outcome(today)
    ours, floors = [first], []
    for run in range(runs):
        sides = ("floor", "ours") if run % 2 == 0 else ("ours", "floor")
        for side in sides:
            if side == "ours" and run == 0:
                continue  # `first`
            reset(today)
            result = run_floor(today) if side == "floor" else run_once(today)
            (floors if side == "floor" else ours).append(result)
            if outcome(today) != expected:
                raise RuntimeError(f"{side} (pair {run + 1}) did not leave the rows our first sweep left")
    return ours, floors


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


def median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def print_sides(ours: list[dict], floors: list[dict]) -> None:
    for key in ("sweep", "digests", "total"):
        ours_s, floor_s = median(ours, key), median(floors, key)
        print(f"  {key:8} ours {' '.join(f'{r[key]:.2f}' for r in ours):<20} median {ours_s:6.3f} s   floor "
              f"{' '.join(f'{r[key]:.3f}' for r in floors):<22} median {floor_s:6.3f} s   {ours_s / floor_s:5.1f} x floor")
    print(f"  statements: ours {max(r['statements'] for r in ours)}, floor {max(r['statements'] for r in floors)}")


def bench(name: str, url: str, sizes: list[int], runs: int) -> list[str]:
    over = []
    today = clock.today()
    for n in sizes:
        app = build_app(url.replace("bench.db", f"bench-{n}.db"))  # SQLite: a fresh file per size
        with app.app_context(), db.connection_context():
            parties = seed_parties()
            loaded = fill_claims(n, parties, today)
            due = due_claims()
            load = os.getloadavg()
            result = run_once(today)
            check(result, due)
            ours, floors = interleaved(today, result, runs)
            reset(today)
            sweep_peak, digest_peak = run_traced(today)
            if PROFILE:
                reset(today)
                profiled(today)
        print(f"{name:8} {n:>9,} claims (loaded in {loaded:5.1f} s), {due:,} due: {result['reminders']:,} reminders, "
              f"{result['sent']} digests; {runs} runs each side, interleaved; load average {load[0]:.2f} before, "
              f"{os.getloadavg()[0]:.2f} after", flush=True)
        print_sides(ours, floors)
        print(f"  peak memory (ours): sweep {sweep_peak / 1024:,.0f} KiB, digests {digest_peak / 1024:,.0f} KiB", flush=True)
        if median(ours, "sweep") > TARGET_SECONDS:
            over.append(f"{n:,} claims: sweep {median(ours, 'sweep'):.2f} s")
    return over


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", default="100000,1000000",
                        help="claim counts, comma-separated, each on a fresh database (default 100000,1000000)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help=f"default {DEFAULT_PG_URL} (its name must contain bench)")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (SQLite file) at the end")
    parser.add_argument("--runs", type=int, default=3,
                        help="timed sweeps (and digests) of ours and of the floor, interleaved (default 3)")
    parser.add_argument("--profile", action="store_true", help="then run both again under cProfile")
    args = parser.parse_args(argv)
    args.sizes = [int(part.replace("_", "")) for part in args.claims.split(",") if part.strip()]
    if args.runs < 1:
        parser.error("--runs must be positive")
    return args


def run(args) -> int:
    global PROFILE
    PROFILE = args.profile
    print(f"work dir {WORK_DIR}; target: one sweep under {TARGET_SECONDS:.0f} s (the digests, once a day, "
          "are timed beside it)", flush=True)
    verdicts = []
    for name, url in backends(args, WORK_DIR):
        print(f"-- {name}: {shown(url)}", flush=True)
        verdicts.append((name, bench(name, url, args.sizes, args.runs)))
    return print_verdicts(verdicts)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_main(run, args, WORK_DIR)


if __name__ == "__main__":
    sys.exit(main())
