"""Fault scenarios against the real huey consumer: what arrives, how often, how soon.

Each scenario is a function registered in `SCENARIOS` (`@scenario("name")`): it gets
the parsed options and a `Setup` (the app, the database, the queue and a restartable
consumer subprocess), prints its figures and returns a list of problems (empty: fine).

`bulk`: a bulk job killed mid-way and resumed (`benchmarks/faults_bulk.py`, run in its own
process): prints the kills, the time to finish after the restart, claims changed twice.

`send`: N messages queued as a bulk action queues them (tasks of 50), a real SMTP
server on 127.0.0.1 (aiosmtpd, each reply to DATA delayed `--smtp-delay` seconds so
that kills land mid-send), the consumer killed with SIGKILL `--kills` times, each time
while a message is in DATA, and restarted at once. It prints the messages delivered,
missing and delivered twice (and whether each copy is flagged `possible_duplicate`
with the same Message-ID), the time to drain after the last restart, and the
duplicate window: for each row, from its "being sent" mark (committed before DATA)
to its "sent" mark — a kill inside that window is the one case that sends a copy.

Usage:
    .venv/bin/python benchmarks/faults.py [send ...] [--messages 200] [--kills 3] [--smtp-delay 0.05]
        [--database-url postgresql://.../gessin_bench_faults] [--redis-url redis://127.0.0.1:6379/5] [--keep]

Default: SQLite database and SQLite task queue in a temp directory. A PostgreSQL
database is wiped first, so its name must contain `bench` (or start with `test_`, a
test database the suite wipes anyway); Redis db 0 is refused and the db given is
flushed.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.consumer import Consumer  # noqa: E402 - the fault tests' consumer subprocess

SCENARIOS: dict[str, Callable] = {}


def scenario(name: str):
    def register(fn):
        SCENARIOS[name] = fn
        return fn
    return register


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", help=f"scenarios to run (default: all): {', '.join(SCENARIOS)}")
    parser.add_argument("--messages", type=int, default=200, help="send: messages queued (default 200)")
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs of the consumer (default 3)")
    parser.add_argument("--smtp-delay", type=float, default=0.05,
                        help="send: seconds the SMTP server waits before answering DATA (default 0.05)")
    parser.add_argument("--workers", type=int, default=2, help="consumer worker threads (default 2)")
    parser.add_argument("--database-url", help="default: SQLite in the temp directory")
    parser.add_argument("--redis-url", help="default: huey's SQLite queue in the temp directory")
    parser.add_argument("--drain-timeout", type=float, default=120, help="seconds to wait for the drain (default 120)")
    parser.add_argument("--claims", type=int, default=1500, help="bulk: claims in the job (default 1500)")
    parser.add_argument("--kill-at", default="500", help="bulk: claims done at each SIGKILL, comma-separated")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory (consumer logs) at the end")
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}: choose among {', '.join(SCENARIOS)}")
    args.scenarios = args.scenarios or list(SCENARIOS)
    return args


def refuse_unsafe(args) -> None:
    if args.database_url and not args.database_url.startswith("sqlite"):
        name = urlsplit(args.database_url).path.lstrip("/")
        if "bench" not in name and not name.startswith("test_"):
            sys.exit(f"error: refusing to wipe database {name!r}: its name must contain 'bench' (or start with 'test_')")
    if args.redis_url and urlsplit(args.redis_url).path.strip("/") in ("", "0"):
        sys.exit("error: refusing Redis db 0 (a real queue's): give a db number, e.g. redis://127.0.0.1:6379/5")


# ---- what the scenarios share -----------------------------------------------------------

@dataclass
class Setup:
    app: object
    work_dir: Path
    env: dict

    def consumer(self, args, **extra_env) -> Consumer:
        return Consumer({**self.env, **extra_env}, self.work_dir / "huey_consumer.log", args.workers)


def prepare(args, work_dir: Path) -> Setup:
    """Environment first (tasks/__init__.py picks its queue at import), then a fresh database."""
    instance = work_dir / "instance"
    os.environ["GESSIN_INSTANCE"] = str(instance)
    os.environ.pop("HUEY_IMMEDIATE", None)
    url = args.database_url or f"sqlite:///{work_dir / 'faults.db'}"
    os.environ["DATABASE_URL"] = url
    if args.redis_url:
        os.environ["REDIS_URL"] = args.redis_url
    else:
        os.environ.pop("REDIS_URL", None)

    import models
    from app import create_app
    from models.migrate import upgrade
    from tasks import huey

    if not url.startswith("sqlite"):
        models.bind_database(url)
        models.db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        models.db.close()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-faults", "STORAGE_DIR": str(work_dir / "storage"),
                      "MAIL_SERVER": None, "PUBLIC_URL": "http://127.0.0.1"})
    with app.app_context():
        upgrade()
    huey.flush()
    env = {key: value for key, value in os.environ.items() if key != "HUEY_IMMEDIATE"}
    env.update(PYTHONPATH=str(ROOT), PUBLIC_URL="http://127.0.0.1", SECRET_KEY="bench-faults",
               MAIL_RETRY_BASE_SECONDS="1")
    backend = "PostgreSQL" if models.is_postgres() else "SQLite"
    print(f"database {backend}, task queue {'Redis' if args.redis_url else 'SQLite'}; work dir {work_dir}")
    print(f"machine load average {os.getloadavg()[0]:.2f} (2 cores: figures drop when it is high)")
    return Setup(app, work_dir, env)


def wait_until(condition, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def milliseconds(values: list[float]) -> str:
    if not values:
        return "none"
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms, max {values[-1]:.1f} ms"


# ---- send: the consumer killed mid-send ------------------------------------------------------

class Recorder:
    """aiosmtpd handler: keeps each message's outbox id and Message-ID when its data has
    arrived (the server has it), then waits `delay` before answering 250."""

    def __init__(self, delay: float):
        self.delay, self.received, self.in_data = delay, [], threading.Event()

    async def handle_DATA(self, server, session, envelope):
        import email
        parsed = email.message_from_bytes(envelope.original_content or envelope.content)
        self.received.append((int(parsed["X-Gessin-Outbox-Id"]), parsed["Message-ID"]))
        self.in_data.set()
        await asyncio.sleep(self.delay)
        return f"250 2.0.0 Ok: queued as B{len(self.received)}"


@scenario("send")
def send(args, setup: Setup) -> list[str]:
    from aiosmtpd.controller import Controller

    from models import OutboundEmail, db
    from workflows import notify

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line per command
    recorder = Recorder(args.smtp_delay)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    smtp = Controller(recorder, hostname="127.0.0.1", port=port)
    smtp.start()
    with setup.app.app_context():
        db.connect(reuse_if_open=True)
        with db.atomic():
            notify.write([(None, [f"destinatario{n}@example.it"], f"[Gessin] Prova guasti {n}", "Testo.\n")
                          for n in range(args.messages)])
        notify.flush()  # after the commit, as a bulk action: tasks.mail.dispatch, in tasks of 50
    consumer = setup.consumer(args, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port))
    print(f"\nsend: {args.messages} messages, consumer killed {args.kills} times mid-DATA, "
          f"SMTP answers DATA after {args.smtp_delay:.2f} s, {args.workers} worker threads")

    def sent() -> int:
        return OutboundEmail.select().where(OutboundEmail.status == "sent").count()

    problems, restarts = [], []
    started = time.monotonic()
    try:
        consumer.start()
        for kill in range(args.kills):
            target = args.messages * (kill + 1) // (args.kills + 1)
            if not wait_until(lambda: len(recorder.received) >= target, args.drain_timeout):
                problems.append(f"kill {kill + 1}: fewer than {target} messages arrived")
                break
            recorder.in_data.clear()
            recorder.in_data.wait(10)
            consumer.kill()
            at_kill = len(recorder.received)
            consumer.start()
            restarts.append(time.monotonic())
            resumed = wait_until(lambda: len(recorder.received) > at_kill, args.drain_timeout, 0.01)
            print(f"  kill {kill + 1} after {at_kill} arrivals: "
                  + (f"the next message arrived {time.monotonic() - restarts[-1]:.1f} s after the restart"
                     if resumed else "nothing arrived after the restart"))
        drained = wait_until(lambda: sent() == args.messages, args.drain_timeout, 0.1)
        finished = time.monotonic()
        time.sleep(2)  # a copy still in flight would arrive now
    finally:
        consumer.stop()
        smtp.stop()

    arrivals = Counter(outbox_id for outbox_id, _ in recorder.received)
    copies = {outbox_id: times - 1 for outbox_id, times in arrivals.items() if times > 1}
    rows = {row.id: row for row in OutboundEmail.select()}
    missing = sorted(set(rows) - set(arrivals))
    flagged = {row_id for row_id, row in rows.items() if row.possible_duplicate}
    same_id = all(len({mid for oid, mid in recorder.received if oid == row_id}) == 1 for row_id in copies)
    windows = [(row.sent_at - row.sending_at).total_seconds() * 1000 for row in rows.values()
               if row.sent_at and row.sending_at]
    last_restart = restarts[-1] if restarts else started
    print(f"  delivered {len(arrivals)} of {args.messages} (missing {len(missing)}), "
          f"{sum(arrivals.values())} arrivals")
    print(f"  duplicates {sum(copies.values())} (rows {sorted(copies)}), every one flagged: "
          f"{'yes' if set(copies) <= flagged else 'NO'}, same Message-ID: {'yes' if same_id else 'NO'}; "
          f"flagged rows {len(flagged)}")
    if drained:
        print(f"  drained {finished - last_restart:.1f} s after the last restart "
              f"({finished - started:.1f} s in all)")
    print(f"  duplicate window (\"sending\" committed before DATA -> \"sent\" committed): {milliseconds(windows)}; "
          f"of which the server's DATA delay {args.smtp_delay * 1000:.0f} ms")
    if missing:
        problems.append(f"{len(missing)} messages never arrived: {missing[:10]}")
    if not drained:
        problems.append(f"not drained within {args.drain_timeout:.0f} s of the last restart")
    if not set(copies) <= flagged or not same_id:
        problems.append("a duplicate is not flagged or changed its Message-ID")
    return problems


@scenario("bulk")
def bulk(args, setup: Setup) -> list[str]:
    """A bulk job of `--claims` claims, the consumer killed with SIGKILL once `--kill-at`
    claims are done, then restarted: `benchmarks/faults_bulk.py` in its own process (it
    sets up its own database and queue, so it is run, not imported)."""
    command = [sys.executable, str(ROOT / "benchmarks" / "faults_bulk.py"), "--claims", str(args.claims),
               "--kill-at", args.kill_at, "--json"]
    if args.database_url and args.database_url.startswith("postgres"):
        command += ["--backend", "postgres"]
    if args.redis_url:
        command += ["--redis-url", args.redis_url]
    print(f"\n== bulk: {args.claims} claims, SIGKILL at {args.kill_at} done ==", flush=True)
    finished = subprocess.run(command, cwd=ROOT, check=False)
    return [] if finished.returncode == 0 else [f"faults_bulk.py exited {finished.returncode}: see its lines above"]


def main(argv=None) -> int:
    args = parse(argv)
    refuse_unsafe(args)
    work_dir = Path(tempfile.mkdtemp(prefix="gessin-bench-faults-"))
    try:
        setup = prepare(args, work_dir)
        problems = {name: SCENARIOS[name](args, setup) for name in args.scenarios}
    finally:
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)
    print()
    for name, found in problems.items():
        print(f"{name}: {'OK' if not found else 'PROBLEMS: ' + '; '.join(found)}")
    return 1 if any(problems.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
