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
3. a check in the database of each pass: every claim saved once, with its five
   attachments, their files on disk at the right size (a few hashed again), two
   outbox e-mails per claim and their two huey tasks queued in Redis;
4. when over target (or with `--profile`): one request profiled. The app runs
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
starts it without, `--malloc both` runs each pass both ways to show the difference
(the profile runs in this process, as it was started). The
gunicorn workers default to 2, the cores of the machine it was written on: the
work is CPU-bound, and 3 or 4 sync workers were slower. `--pg-url` defaults to
peewee's pooled form (postgresql+pool://...?max_connections=4), as in
production; a plain postgresql:// URL compares with a connection per request.

Target (product issue): at least 40 claims/s and a median under 150 ms from 4
clients. Over target is reported, not an error: the exit status is non-zero only
when something fails (PostgreSQL or Redis unreachable, gunicorn not starting, a
post not answered 201, a claim or file missing).

Usage:
    .venv/bin/python benchmarks/intake.py [--claims 400] [--clients 4] [--workers 2|2,3,4]
        [--sequential 30] [--warmup 2] [--pg-url postgresql://...] [--redis-url redis://...]
        [--malloc tuned|default|both] [--profile] [--profile-requests 20] [--keep]

The work is split by concern: `intake_payloads.py` builds the posts, `intake_server.py`
starts gunicorn and reads the CPU it used, `intake_clients.py` posts them and keeps the
figures of a pass, `intake_database.py` seeds the database and checks each pass,
`intake_profile.py` profiles one request in this process.
"""
from __future__ import annotations

import argparse
import os
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

from common import prepare_postgres, shown  # noqa: E402
from intake_clients import print_pass, require_created, run_pass  # noqa: E402
from intake_database import (DEFAULT_REDIS_URL, REPAIRERS, build_app, prepare_redis, remove_files, seed,  # noqa: E402
                             server_env, verify, verify_queue)
from intake_payloads import DOCUMENTS, KIB, PAYLOAD_BYTES, Payloads  # noqa: E402
from intake_profile import profile  # noqa: E402
from intake_server import MALLOC_TUNABLES, Server, background_busy  # noqa: E402

DEFAULT_PG_URL = "postgresql+pool://postgres@127.0.0.1:5432/gessin_bench_intake?max_connections=4"  # as in production
DEFAULT_WORKERS = "2"  # = cores: the work is CPU-bound; 3 or 4 sync workers were slower
TARGET_RATE = 40.0  # claims per second, from 4 clients
TARGET_MS = 150.0  # median latency


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
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL,
                        help=f"default {DEFAULT_PG_URL}; postgresql+pool://... for peewee's connection pool")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help=f"huey's queue for the server, flushed at start and end (default {DEFAULT_REDIS_URL})")
    parser.add_argument("--malloc", choices=("tuned", "default", "both"), default="tuned",
                        help="gunicorn with GLIBC_TUNABLES as in production (default), without, or both")
    parser.add_argument("--profile", action="store_true", help="profile one request even when on target")
    parser.add_argument("--profile-requests", type=int, default=20, help="posts profiled (default 20)")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (logs, documents) at the end")
    args = parser.parse_args(argv)
    if args.claims < 1 or args.clients < 1 or args.sequential < 0 or args.warmup < 0 or args.profile_requests < 1:
        parser.error("--claims, --clients and --profile-requests must be positive, --sequential and --warmup not negative")
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
    print(f"work dir {WORK_DIR}; {args.claims} claims from {args.clients} clients, gunicorn workers "
          f"{','.join(map(str, args.workers))}, {cores} cores, load average {os.getloadavg()[0]:.2f}")
    print(f"database {shown(args.pg_url)}; huey on {shown(args.redis_url)}; target >= {TARGET_RATE:.0f} claims/s "
          f"and median < {TARGET_MS:.0f} ms")
    env = server_env(args, WORK_DIR)
    app = build_app(env)
    centre, logins = seed(app, redis_client)
    payloads = Payloads(centre, logins)
    payloads.check(payloads.post("CHECK", 0))
    body_mb = payloads.post("CHECK", 0).length / 1e6
    payloads.n = 0
    print(f"each post: {len(DOCUMENTS)} documents, {PAYLOAD_BYTES / 1e6:.2f} MB ({PAYLOAD_BYTES // KIB:,} KiB) of files, "
          f"a {body_mb:.2f} MB JSON body; {REPAIRERS} repairers with WinCar credentials")
    queued, verdicts = 0, []
    mallocs = ("tuned", "default") if args.malloc == "both" else (args.malloc,)
    for workers, malloc in [(w, m) for w in args.workers for m in mallocs]:
        tag = f"W{workers}{malloc[0].upper()}"
        print(f"\n== gunicorn -w {workers} (sync workers), malloc {malloc}")
        share = [args.claims // args.clients + (1 if k < args.claims % args.clients else 0) for k in range(args.clients)]
        warm = [[payloads.post(f"{tag}-WARM", k) for _ in range(args.warmup)] for k in range(args.clients)]
        batches = [[payloads.post(f"{tag}-CONC", k) for _ in range(share[k])] for k in range(args.clients)]
        single = [[payloads.post(f"{tag}-SEQ", 0) for _ in range(args.sequential)]]
        idle = background_busy()
        print(f"machine busy before the server starts: {idle:.0%} of {cores} cores, load average "
              f"{os.getloadavg()[0]:.2f}" + ("  (WARNING: other processes are running; the figures will be low)"
                                              if idle > 0.10 else ""))
        server_env_now = {k: v for k, v in env.items() if k != "GLIBC_TUNABLES"}
        if malloc == "tuned":
            server_env_now["GLIBC_TUNABLES"] = MALLOC_TUNABLES
        with Server(workers, server_env_now, WORK_DIR) as server:
            print(f"gunicorn on 127.0.0.1:{server.port}, pid {server.proc.pid}, log {server.log_path.name}")
            passes = []
            if args.warmup:
                warm_pass = run_pass("warm-up", server, warm)
                require_created(warm_pass)
                passes.append(warm_pass)
            concurrent = run_pass("concurrent", server, batches)
            require_created(concurrent)
            passes.append(concurrent)
            sequential = None
            if args.sequential:
                sequential = run_pass("sequential", server, single)
                require_created(sequential)
                passes.append(sequential)
        for result in passes:
            summary = verify(app, result)
            if result is not passes[0] or not args.warmup:
                print_pass(result, cores)
                print(f"  {summary}")
            remove_files(app, result)
        queued = verify_queue(redis_client, sum(len(p.results) for p in passes), queued)
        over = concurrent.rate < TARGET_RATE or concurrent.median_ms >= TARGET_MS
        verdicts.append((f"{workers}, malloc {malloc}", concurrent, over))
    if args.profile or any(over for *_, over in verdicts):
        profile(app, payloads, args.profile_requests, WORK_DIR)
    print()
    for workers, result, over in verdicts:
        figures = f"{result.rate:.1f} claims/s, median {result.median_ms:.0f} ms"
        print(f"gunicorn -w {workers}: {'OVER TARGET' if over else 'OK'} ({figures}; target >= {TARGET_RATE:.0f} "
              f"claims/s and median < {TARGET_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
