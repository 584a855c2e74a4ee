"""Benchmark of the WinCar intake: new claims posted by concurrent clients to gunicorn.

What it measures, against the stack as it runs in production: gunicorn serving
`app:create_app()` on 127.0.0.1 (sync workers, `--workers` of them), the
PostgreSQL database `gessin_bench_intake`, huey on Redis (db 5, not the db 0 of
a real queue) so that the e-mails of each new claim are queued as in production
(no worker runs: they stay queued and the db is flushed at the end):

1. concurrent pass: `--clients` threads (default 4), each with its own HTTP
   connection (http.client; reopened when the server closes it, as gunicorn's
   sync workers do after each response), post `--claims` new claims between
   them (default 400) to POST /api/v1/claims, as WinCar does: HTTP Basic with
   the repairer's WinCar credentials, a fresh Idempotency-Key, a JSON body with
   five attachments of about 2 MB in all (PDF, PDF, TIFF, PNG, JPEG: denuncia,
   mandato, cessione del credito, richiesta danni, documento d'identità), each
   claim with its own WinCar reference, plates, customer and documents. The
   bodies are built before timing (the shared random part of each document is
   base64-encoded once; each document starts with its own header), so the
   client only writes bytes. Untimed warm-up posts come first. Printed: claims
   per second over the wall time of the pass, the median, p95 and max latency
   of a post (sending the body to reading the whole answer), the HTTP statuses
   (all must be 201), the time the server logged for the request itself
   (IntakeEvent.duration_ms), and where the CPU went per claim: the gunicorn
   workers, PostgreSQL (its processes, with the backends that exited: one per
   request without a pool), this client, and the whole machine (/proc/stat).
   Before each server starts, the machine's idle load is measured: other
   processes busy on it are reported, as the figures are then low;
2. sequential pass: one client posts `--sequential` claims (default 30) one
   after the other, the latency without contention;
3. the floor, in the same run and interleaved with the app: a second gunicorn, with the
   same workers, settings and malloc, serves `benchmarks/intake_floor_app.py`, the least
   work a server can do for the same post (the credential compared, the body parsed and
   the documents decoded, hashed and written, the same rows written by hand in one
   transaction on a kept connection, the e-mail ids pushed to Redis; what it leaves out
   is listed there). Both servers run at once; each pass is cut into `--rounds` rounds
   (default 4) and every round posts to the app and to the floor, the app first in even
   rounds, the floor first in odd ones, so that a change in the machine's load falls on
   both. Printed: each side's figures, then beside each other the median over rounds of
   the concurrent claims/s and the median latency of the concurrent and sequential
   posts, with the ratio "x floor" (for claims/s the floor's rate over the app's);
4. a check in the database of each pass, the floor's included: every claim saved once,
   with its five attachments, their files on disk at the right size (a few hashed
   again), two outbox e-mails per claim and their two huey tasks queued in Redis (the
   floor's two ids in its own Redis list);
5. when over target (or with `--profile`): one request profiled. The app runs
   in this process with the same configuration and `--profile-requests` posts
   (default 20) go through the Flask test client: first without the profiler
   (the in-process median), then under cProfile (the time per post of the
   candidate costs: password check, body reading and JSON parsing, pydantic,
   base64, sha256, file writes, SQL, the huey hand-off, the intake log...; and
   the top functions), then once more with each SQL statement timed (grouped
   by kind and table, BEGIN and COMMIT included).

gunicorn starts in the repository, so it reads `gunicorn.conf.py`, the production
settings, and with `GLIBC_TUNABLES` set as the README tells production (glibc's
malloc kept from mapping fresh pages for every large buffer); `--malloc default`
starts it without, `--malloc both` starts the app and its floor both ways, four servers
at once, and the rounds go round all four, to show the difference under the same load
(the profile runs in this process, as it was started). The
gunicorn workers default to 2, the cores of the machine it was written on: the
work is CPU-bound, and 3 or 4 sync workers were slower. `--pg-url` defaults to
peewee's pooled form (postgresql+pool://...?max_connections=4), as in
production; a plain postgresql:// URL compares with a connection per request.

Targets (product issues): at least 40 claims/s and a median under 150 ms from 4
clients; and (#15) at most 2 x the floor for the concurrent claims/s and the median
latency of both passes. Over target is reported, not an error: the exit status is non-zero only
when something fails (PostgreSQL or Redis unreachable, gunicorn not starting, a
post not answered 201, a claim or file missing).

Usage:
    .venv/bin/python benchmarks/intake.py [--claims 400] [--clients 4] [--workers 2|2,3,4]
        [--sequential 30] [--warmup 2] [--rounds 4] [--pg-url postgresql://...] [--redis-url redis://...]
        [--malloc tuned|default|both] [--floor-decoder pydantic-core|stdlib] [--profile]
        [--profile-requests 20] [--keep]

The work is split by concern: `intake_payloads.py` builds the posts, `intake_server.py`
starts gunicorn and reads the CPU it used, `intake_clients.py` posts them and keeps the
figures of a pass, `intake_database.py` seeds the database and checks each pass,
`intake_profile.py` profiles one request in this process, `intake_floor_app.py` is the
floor's WSGI app.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK_DIR = Path(tempfile.mkdtemp(prefix="gessin-bench-"))
# Before importing the app: config.py writes its generated secret in the instance dir.
os.environ["GESSIN_INSTANCE"] = str(WORK_DIR / "instance")
# The e-mails must be queued, never run in the request.
os.environ.pop("HUEY_IMMEDIATE", None)

import redis  # noqa: E402

from common import libpq_url, prepare_postgres, print_verdicts, shown  # noqa: E402
from intake_clients import combined, print_pass, require_created, run_pass  # noqa: E402
from intake_database import (DEFAULT_REDIS_URL, REPAIRERS, build_app, prepare_redis, remove_files, seed,  # noqa: E402
                             server_env, verify, verify_floor_queue, verify_queue)
from intake_floor_app import DEFAULT_QUEUE as FLOOR_QUEUE  # noqa: E402
from intake_payloads import DOCUMENTS, KIB, PAYLOAD_BYTES, Payloads  # noqa: E402
from intake_profile import profile  # noqa: E402
from intake_server import APP, FLOOR, MALLOC_TUNABLES, Server, background_busy  # noqa: E402

DEFAULT_PG_URL = "postgresql+pool://postgres@127.0.0.1:5432/gessin_bench_intake?max_connections=4"  # as in production
DEFAULT_WORKERS = "2"  # = cores: the work is CPU-bound; 3 or 4 sync workers were slower
TARGET_RATE = 40.0  # claims per second, from 4 clients
TARGET_MS = 150.0  # median latency
TARGET_RATIO = 2.0  # issue #15: the intake at most twice its floor, measured in the same run
SIDE_APP, SIDE_FLOOR = "app", "floor"
SIDES = (SIDE_APP, SIDE_FLOOR)
WARM, CONCURRENT, SEQUENTIAL = "warm-up", "concurrent", "sequential"


def parse_workers(value: str) -> list[int]:
    try:
        counts = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a number or a list like 2,3,4")
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("worker counts must be positive")
    return counts


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=400, help="claims of the concurrent pass (default 400)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--workers", type=parse_workers, default=parse_workers(DEFAULT_WORKERS),
                        help=f"gunicorn workers, or a list like 2,3,4 to compare (default {DEFAULT_WORKERS})")
    parser.add_argument("--sequential", type=int, default=30, help="claims of the one-client pass (default 30; 0: none)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed posts per client first (default 2)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="rounds the passes are cut into, alternating between the app and its floor (default 4)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL,
                        help=f"default {DEFAULT_PG_URL}; postgresql+pool://... for peewee's connection pool")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help=f"huey's queue for the server, flushed at start and end (default {DEFAULT_REDIS_URL})")
    parser.add_argument("--malloc", choices=("tuned", "default", "both"), default="tuned",
                        help="gunicorn with GLIBC_TUNABLES as in production (default), without, or both")
    parser.add_argument("--floor-decoder", choices=("pydantic-core", "stdlib"), default="pydantic-core",
                        help="how the floor parses the body and decodes the documents (default pydantic-core, "
                             "as the app; stdlib: json and base64, slower)")
    parser.add_argument("--profile", action="store_true", help="profile one request even when on target")
    parser.add_argument("--profile-requests", type=int, default=20, help="posts profiled (default 20)")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (logs, documents) at the end")
    args = parser.parse_args(argv)
    if min(args.claims, args.clients, args.rounds, args.profile_requests) < 1 or min(args.sequential, args.warmup) < 0:
        parser.error("--claims, --clients, --rounds and --profile-requests must be positive, --sequential and "
                     "--warmup not negative")
    if args.rounds > args.claims:
        parser.error("--rounds cannot be more than --claims")
    return args


def main(argv=None) -> int:
    args, redis_client = None, None
    try:
        args = parse_args(argv)  # inside: a usage error removes the temp directory too
        prepare_postgres(args.pg_url)  # before any long work: fail fast if unreachable
        redis_client = prepare_redis(args.redis_url)
        return run(args, redis_client)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if redis_client is not None:
            try:
                redis_client.flushdb()
            except redis.RedisError:
                pass
        if args is not None and args.keep:
            print(f"kept {WORK_DIR}")
        else:
            shutil.rmtree(WORK_DIR, ignore_errors=True)


def run(args, redis_client: redis.Redis) -> int:
    cores = os.cpu_count() or 1
    print(f"work dir {WORK_DIR}; {args.claims} claims from {args.clients} clients to the app and as many to its "
          f"floor ({args.floor_decoder} decoder), in {args.rounds} rounds each; gunicorn workers "
          f"{','.join(map(str, args.workers))}, {cores} cores, load average {os.getloadavg()[0]:.2f}")
    print(f"database {shown(args.pg_url)}; huey on {shown(args.redis_url)}; target >= {TARGET_RATE:.0f} claims/s "
          f"and median < {TARGET_MS:.0f} ms, and <= {TARGET_RATIO:g} x the floor")
    env = server_env(args, WORK_DIR)
    app = build_app(env)
    centre, logins = seed(app, redis_client)
    env.update(floor_env(args, logins))
    payloads = Payloads(centre, logins)
    payloads.check(payloads.post("CHECK", 0))
    body_mb = payloads.post("CHECK", 0).length / 1e6
    payloads.n = 0
    print(f"each post: {len(DOCUMENTS)} documents, {PAYLOAD_BYTES / 1e6:.2f} MB ({PAYLOAD_BYTES // KIB:,} KiB) of files, "
          f"a {body_mb:.2f} MB JSON body; {REPAIRERS} repairers with WinCar credentials")
    queued, verdicts, measured = 0, [], []
    mallocs = ("tuned", "default") if args.malloc == "both" else (args.malloc,)
    for workers in args.workers:
        print(f"\n== gunicorn -w {workers} (sync workers), malloc {' and '.join(mallocs)}: the app and its floor, "
              f"interleaved")
        claims = 0
        for malloc, passes in measure(args, env, payloads, workers, mallocs, cores).items():
            name = f"gunicorn -w {workers}, malloc {malloc}"
            print(f"\n-- {name}")
            claims += check_and_print(app, redis_client, passes, cores, floor_queue(malloc))
            verdicts.append((name, over_target(passes)))
            measured.append((name, passes))
        queued = verify_queue(redis_client, claims, queued)  # the app's servers share huey's queue
    if args.profile or any(over for _, over in verdicts):
        profile(app, payloads, args.profile_requests, WORK_DIR)
    if len(measured) > 1:
        print_comparison(measured)
    return print_verdicts(verdicts)


def floor_env(args, logins: list[tuple[str, str]]) -> dict:
    """What the floor's gunicorn reads (benchmarks/intake_floor_app.py), beside the app's settings."""
    return {"FLOOR_DATABASE_URL": libpq_url(args.pg_url), "FLOOR_REDIS_URL": args.redis_url,
            "FLOOR_LOGINS": json.dumps(logins), "FLOOR_DECODER": args.floor_decoder}


def floor_queue(malloc: str) -> str:
    return f"{FLOOR_QUEUE}-{malloc}"


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if k < total % parts else 0) for k in range(parts)]


def build_posts(args, payloads: Payloads, tag: str) -> dict:
    """One server's posts, {kind: [batches of a round, ...]}: the warm-up's, then per round
    the concurrent pass's (one batch per client) and the sequential one's."""
    return {
        WARM: [[[payloads.post(f"{tag}-WARM", k) for _ in range(args.warmup)] for k in range(args.clients)]],
        CONCURRENT: [[[payloads.post(f"{tag}-CONC", k) for _ in range(n)]
                      for k, n in enumerate(split(share, args.clients))]
                     for share in split(args.claims, args.rounds)],
        SEQUENTIAL: [[[payloads.post(f"{tag}-SEQ", 0) for _ in range(n)]]
                     for n in split(args.sequential, args.rounds) if n],
    }


def measure(args, env: dict, payloads: Payloads, workers: int, mallocs: tuple[str, ...], cores: int) -> dict:
    """Every server up at once, the app's and the floor's for each malloc setting, and the
    passes going round them: in each round the concurrent pass, then the sequential one, to
    each server in turn, the order shifted by one server each round (with one setting: the
    app first in even rounds, the floor first in odd ones), so that a change in the machine's
    load falls on all of them. Returns {malloc: {(side, kind): [Pass, ...]}}."""
    order = [(malloc, side) for malloc in mallocs for side in SIDES]
    posts = {(m, s): build_posts(args, payloads, f"W{workers}{m[0].upper()}{s[0].upper()}") for m, s in order}
    idle = background_busy()
    print(f"machine busy before the servers start: {idle:.0%} of {cores} cores, load average "
          f"{os.getloadavg()[0]:.2f}" + ("  (WARNING: other processes are running; the figures will be low)"
                                          if idle > 0.10 else ""))
    passes = {malloc: {(side, kind): [] for side in SIDES for kind in (WARM, CONCURRENT, SEQUENTIAL)}
              for malloc in mallocs}
    with contextlib.ExitStack() as stack:
        servers = {}
        for malloc, side in order:
            served_env = {k: v for k, v in env.items() if k != "GLIBC_TUNABLES"}
            served_env["FLOOR_QUEUE"] = floor_queue(malloc)
            if malloc == "tuned":
                served_env["GLIBC_TUNABLES"] = MALLOC_TUNABLES
            server = stack.enter_context(Server(workers, served_env, WORK_DIR, APP if side == SIDE_APP else FLOOR))
            servers[malloc, side] = server
            print(f"{side}, malloc {malloc}: gunicorn {server.target} on 127.0.0.1:{server.port}, "
                  f"pid {server.proc.pid}, log {server.log_path.name}")
        if args.warmup:
            for malloc, side in order:
                passes[malloc][side, WARM].append(run_pass(f"{side} {WARM}", servers[malloc, side],
                                                           posts[malloc, side][WARM][0]))
        for r in range(args.rounds):
            for kind in (CONCURRENT, SEQUENTIAL):
                for malloc, side in order[r % len(order):] + order[:r % len(order)]:
                    if r < len(posts[malloc, side][kind]):
                        passes[malloc][side, kind].append(run_pass(f"{side} {kind}", servers[malloc, side],
                                                                   posts[malloc, side][kind][r]))
    for by_kind in passes.values():
        for rounds in by_kind.values():
            for result in rounds:
                require_created(result)
    return passes


def check_and_print(app, redis_client: redis.Redis, passes: dict, cores: int, floor_list: str) -> int:
    """Each side's passes checked in the database and printed, their rounds as one; then
    the floor beside the app. Returns the number of claims posted to the app."""
    counts = {side: 0 for side in SIDES}
    for (side, kind), rounds in passes.items():
        if not rounds:
            continue
        result = combined(f"{side} {kind}", rounds)
        summary = verify(app, result)
        counts[side] += len(result.results)
        if kind != WARM:
            print_pass(result, cores)
            if len(rounds) > 1:
                print(f"  rounds: {' '.join(f'{p.rate:.1f}' for p in rounds)} claims/s, "
                      f"median {statistics.median(p.rate for p in rounds):.1f}")
            print(f"  {summary}")
        remove_files(app, result)
    verify_floor_queue(redis_client, counts[SIDE_FLOOR], floor_list)
    print_ratios(passes)
    return counts[SIDE_APP]


def figures(passes: dict) -> dict:
    """Per side: the median over rounds of the concurrent claims/s, the median latency of
    all the concurrent posts and of all the sequential ones."""
    out = {}
    for side in SIDES:
        row = {"claims/s": statistics.median(p.rate for p in passes[side, CONCURRENT]),
               "concurrent median ms": combined("", passes[side, CONCURRENT]).median_ms}
        if passes[side, SEQUENTIAL]:
            row["sequential median ms"] = combined("", passes[side, SEQUENTIAL]).median_ms
        out[side] = row
    return out


def ratios(passes: dict) -> dict:
    """x floor: how many times the floor's cost the app's is (claims/s: the floor's rate over the app's)."""
    fig = figures(passes)
    return {name: (fig[SIDE_FLOOR][name] / value if name == "claims/s" else value / fig[SIDE_FLOOR][name])
            for name, value in fig[SIDE_APP].items()}


def print_ratios(passes: dict) -> None:
    fig, ratio = figures(passes), ratios(passes)
    print(f"\n{'':<24} {'app':>8} {'floor':>8} {'x floor':>8}   (target <= {TARGET_RATIO:g} x floor)")
    for name, value in fig[SIDE_APP].items():
        print(f"{name:<24} {value:>8.1f} {fig[SIDE_FLOOR][name]:>8.1f} {ratio[name]:>8.2f}"
              + ("   OVER TARGET" if ratio[name] > TARGET_RATIO else ""))


def over_target(passes: dict) -> list[str]:
    """What misses the targets: the absolute ones (concurrent claims/s and median) and <= 2 x floor."""
    fig, ratio, over = figures(passes)[SIDE_APP], ratios(passes), []
    if fig["claims/s"] < TARGET_RATE:
        over.append(f"{fig['claims/s']:.1f} claims/s, target >= {TARGET_RATE:.0f}")
    if fig["concurrent median ms"] >= TARGET_MS:
        over.append(f"median {fig['concurrent median ms']:.0f} ms, target < {TARGET_MS:.0f}")
    over += [f"{name} {value:.2f} x floor" for name, value in ratio.items() if value > TARGET_RATIO]
    return over


def print_comparison(measured: list[tuple[str, dict]]) -> None:
    """With --malloc both or several worker counts: each run's figures side by side."""
    print(f"\n{'run':<32} {'app claims/s':>12} {'floor':>7} {'app conc. ms':>12} {'floor':>7} "
          f"{'app seq. ms':>11} {'floor':>7}")
    for name, passes in measured:
        fig = figures(passes)
        seq = [f"{fig[side].get('sequential median ms', float('nan')):.1f}" for side in SIDES]
        print(f"{name:<32} {fig[SIDE_APP]['claims/s']:>12.1f} {fig[SIDE_FLOOR]['claims/s']:>7.1f} "
              f"{fig[SIDE_APP]['concurrent median ms']:>12.1f} {fig[SIDE_FLOOR]['concurrent median ms']:>7.1f} "
              f"{seq[0]:>11} {seq[1]:>7}")


if __name__ == "__main__":
    sys.exit(main())
