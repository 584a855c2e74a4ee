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
"""
from __future__ import annotations

import argparse
import base64
import cProfile
import datetime as dt
import hashlib
import http.client
import io
import json
import logging
import os
import pstats
import random
import re
import runpy
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK_DIR = Path(tempfile.mkdtemp(prefix="gessin-bench-"))
# Before importing the app: config.py writes its generated secret in the instance dir.
os.environ["GESSIN_INSTANCE"] = str(WORK_DIR / "instance")
# The e-mails must be queued, never run in the request.
os.environ.pop("HUEY_IMMEDIATE", None)

import redis  # noqa: E402
from stdnum.it import codicefiscale  # noqa: E402

from app import create_app  # noqa: E402
from common import prepare_postgres, shown  # noqa: E402
from models import Attachment, Claim, IntakeEvent, OutboundEmail, db, is_postgres  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from tests import factories  # noqa: E402

DEFAULT_PG_URL = "postgresql+pool://postgres@127.0.0.1:5432/gessin_bench_intake?max_connections=4"  # as in production
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
DEFAULT_WORKERS = "2"  # = cores: the work is CPU-bound; 3 or 4 sync workers were slower
MALLOC_TUNABLES = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["MALLOC_TUNABLES"]  # as the README sets it
TARGET_RATE = 40.0  # claims per second, from 4 clients
TARGET_MS = 150.0  # median latency
REPAIRERS = 4
PASSWORD = "wincar-bench-2026"
HEAD = 96  # bytes of each document's own header; a multiple of 3, so base64(head + tail) = base64(head) + base64(tail)
KIB = 1024
EMAILS_PER_CLAIM = 2  # repairer and ASP centre (no lawyer yet)
ENDPOINT = "/api/v1/claims"

INSURERS = ("Assicurazioni Generali", "UnipolSai", "Allianz", "AXA Assicurazioni", "Reale Mutua", "Zurich Italia")
FIRST_NAMES = ("Mario", "Luca", "Giulia", "Francesca", "Marco", "Anna", "Paolo", "Sara", "Andrea",
               "Chiara", "Giuseppe", "Elena", "Stefano", "Laura", "Alessandro", "Valentina")
LAST_NAMES = ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
              "Marino", "Greco", "Bruno", "Gallo", "Conti", "Mancini", "Costa", "Giordano")
CITIES = (("Roma", "H501"), ("Napoli", "F839"), ("Milano", "F205"), ("Torino", "L219"), ("Bari", "A662"))
STREETS = ("via Appia", "via Toledo", "corso Buenos Aires", "via Po", "corso Cavour", "viale Marconi")
PLATE_LETTERS = "ABCDEFGHJKLMNPRSTVWXYZ"
CONSONANTS = "BCDFGHLMNPRSTVZ"
MONTH_LETTERS = "ABCDEHLMPRST"


# ---- documents and payloads ---------------------------------------------------------

def _pdf_head(tag: bytes) -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n% " + tag + b"\n"


def _tiff_head(tag: bytes) -> bytes:
    return b"II*\x00\x08\x00\x00\x00" + tag + b"\x00"


def _png_head(tag: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 1654, 2339, 8, 2, 0, 0, 0)  # an A4 scan at 200 dpi, RGB
    text_len = HEAD - 8 - 25 - 12  # the tEXt chunk fills the header exactly
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"tEXt", (b"Comment\x00" + tag).ljust(text_len)[:text_len])


def _jpeg_head(tag: bytes) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x01\x00\xc8\x00\xc8\x00\x00"
    com_len = HEAD - 2 - len(app0) - 2  # the COM segment (with its 2 length bytes) fills the header
    return b"\xff\xd8" + app0 + b"\xff\xfe" + struct.pack(">H", com_len) + tag.ljust(com_len - 2)[:com_len - 2]


# (type, file name, header, trailer, size in bytes): 2,048 KiB in all.
DOCUMENTS = (
    ("denuncia", "denuncia_modulo_blu.pdf", _pdf_head, b"\n%%EOF\n", 700 * KIB),
    ("mandato", "mandato.pdf", _pdf_head, b"\n%%EOF\n", 300 * KIB),
    ("cessione_credito", "cessione_credito.tif", _tiff_head, b"", 350 * KIB),
    ("richiesta_danni", "richiesta_danni.png", _png_head, b"\x00\x00\x00\x00IEND\xaeB`\x82", 250 * KIB),
    ("documento_identita", "carta_identita.jpg", _jpeg_head, b"\xff\xd9", 448 * KIB),
)
PAYLOAD_BYTES = sum(d[-1] for d in DOCUMENTS)


def document_head(make_head, ref: str, kind: str) -> bytes:
    """The first HEAD bytes of a document: its format's header naming the claim, so each
    claim's files differ (their own sha256) while the rest is shared."""
    head = make_head(f"gessin-bench {ref} {kind}".encode()).ljust(HEAD, b" ")
    assert len(head) == HEAD, (kind, len(head))
    return head


def document_tails(seed: int = 20261012) -> dict[str, tuple[bytes, bytes]]:
    """Per document type: (raw bytes after the header, their base64), random, built once."""
    rng = random.Random(seed)
    tails = {}
    for kind, _name, _head, trailer, size in DOCUMENTS:
        raw = rng.randbytes(size - HEAD - len(trailer)) + trailer
        tails[kind] = raw, base64.b64encode(raw)
    return tails


def plate(n: int) -> str:
    """The n-th Italian plate (AA000AA): distinct for each n."""
    digits, n = n % 1000, n // 1000
    letters = []
    for _ in range(4):
        n, i = divmod(n, len(PLATE_LETTERS))
        letters.append(PLATE_LETTERS[i])
    return f"{letters[3]}{letters[2]}{digits:03d}{letters[1]}{letters[0]}"


def fiscal_code(rng: random.Random, birthplace: str) -> str:
    base = ("".join(rng.choice(CONSONANTS) for _ in range(6)) + f"{rng.randrange(40, 100):02d}"
            + rng.choice(MONTH_LETTERS) + f"{rng.randrange(1, 29) + rng.choice((0, 40)):02d}" + birthplace)
    return base + codicefiscale.calc_check_digit(base)


def claim_fields(rng: random.Random, n: int, ref: str, centre) -> dict:
    """The claim data of one WinCar "nuovo" (as examples/nuovo.json), without attachments."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, birthplace = rng.choice(CITIES)
    other = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    insurer_a, insurer_b = rng.sample(INSURERS, 2)
    accident = dt.date.today() - dt.timedelta(days=rng.randrange(1, 60))
    return {
        "event": "nuovo",
        "wincar_ref": ref,
        "asp_centre": {"partita_iva": centre.vat_number, "ragione_sociale": centre.name},
        "customer": {
            "name": f"{first} {last}", "fiscal_code": fiscal_code(rng, birthplace),
            "phone": f"3{rng.randrange(10, 100)} {rng.randrange(1_000_000, 10_000_000)}",
            "email": f"{first.lower()}.{last.lower()}{n}@example.com",
            "address": f"{rng.choice(STREETS)} {rng.randrange(1, 200)}, {city}",
        },
        "accident": {
            "date": accident.isoformat(), "time": f"{rng.randrange(7, 21):02d}:{rng.randrange(60):02d}",
            "place": f"{city}, {rng.choice(STREETS)} {rng.randrange(1, 300)}",
            "vehicle_count": 2,
            "vehicle_a": {"plate": plate(2 * n), "country": "I", "insurer": insurer_a,
                          "policy_number": f"A-{rng.randrange(10**6, 10**7)}", "driver": f"{first} {last}",
                          "circumstances": sorted(rng.sample(range(1, 18), rng.randrange(1, 3)))},
            "vehicle_b": {"plate": plate(2 * n + 1), "country": "I", "insurer": insurer_b,
                          "policy_number": f"B-{rng.randrange(10**6, 10**7)}", "driver": other,
                          "circumstances": sorted(rng.sample(range(1, 18), rng.randrange(1, 3)))},
            "injuries": {"any": False},
            "witnesses": None if rng.random() < 0.5 else f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            "signed_by_both": rng.random() < 0.8,
        },
        "estimate_amount": f"{rng.randrange(300, 9000)}.{rng.randrange(100):02d}",
        "wincar_assessment": "Indennizzo diretto (art. 149)",
    }


@dataclass
class Post:
    """One pre-built request: the body in pieces (sent one after the other) and its headers."""

    ref: str
    pieces: list[bytes]
    length: int
    headers: dict

    def body(self) -> bytes:
        return b"".join(self.pieces)


class Payloads:
    """Builds the posts: a distinct claim each, documents of the right formats and sizes."""

    def __init__(self, centre, logins: list[tuple[str, str]], seed: int = 20261012):
        self.centre, self.rng, self.n = centre, random.Random(seed), 0
        self.tails = document_tails(seed)
        self.auth = ["Basic " + base64.b64encode(f"{user}:{password}".encode()).decode() for user, password in logins]

    def post(self, tag: str, repairer: int) -> Post:
        self.n += 1
        ref = f"WC-BENCH-{tag}-{self.n:06d}"
        fields = json.dumps(claim_fields(self.rng, self.n, ref, self.centre), ensure_ascii=False)
        pieces, text = [], fields[:-1] + ', "attachments": ['
        for i, (kind, filename, make_head, _trailer, _size) in enumerate(DOCUMENTS):
            item = json.dumps({"type": kind, "filename": filename})[:-1] + ', "content_base64": "'
            text += (", " if i else "") + item
            pieces.append(text.encode() + base64.b64encode(document_head(make_head, ref, kind)))
            pieces.append(self.tails[kind][1])
            text = '"}'
        pieces.append((text + "]}").encode())
        headers = {"Content-Type": "application/json", "Authorization": self.auth[repairer % len(self.auth)],
                   "Idempotency-Key": str(uuid.uuid4()), "Content-Length": str(sum(map(len, pieces)))}
        return Post(ref, pieces, int(headers["Content-Length"]), headers)

    def check(self, post: Post) -> None:
        """The body is the JSON meant: valid, with the documents' exact bytes."""
        data = json.loads(post.body())
        assert [a["type"] for a in data["attachments"]] == [d[0] for d in DOCUMENTS]
        for item, (kind, _name, make_head, _trailer, size) in zip(data["attachments"], DOCUMENTS):
            content = base64.b64decode(item["content_base64"], validate=True)
            assert len(content) == size and content == document_head(make_head, post.ref, kind) + self.tails[kind][0]


# ---- PostgreSQL, Redis, app ------------------------------------------------------------







def prepare_redis(url: str) -> redis.Redis:
    """The benchmark's Redis db, reachable and emptied; db 0 (a real queue's) is refused."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5)
    except ValueError as exc:
        sys.exit(f"error: bad Redis URL {shown(url)}: {exc}")
    if int(client.connection_pool.connection_kwargs.get("db", 0) or 0) == 0:
        sys.exit(f"error: refusing to flush Redis db 0 ({shown(url)}): give a db of the benchmark's own, "
                 f"e.g. {DEFAULT_REDIS_URL}")
    try:
        client.ping()
        client.flushdb()
    except redis.RedisError as exc:
        sys.exit(f"error: Redis not reachable at {shown(url)}: {exc}")
    return client


def server_env(args) -> dict:
    """The environment of gunicorn (and of this process's app): configuration as in production."""
    env = dict(os.environ)
    for name in ("HUEY_IMMEDIATE", "MAIL_SERVER", "GUNICORN_CMD_ARGS", "FLASK_DEBUG"):
        env.pop(name, None)
    env.update({
        "DATABASE_URL": args.pg_url,
        "REDIS_URL": args.redis_url,
        "STORAGE_DIR": str(WORK_DIR / "storage"),
        "GESSIN_INSTANCE": str(WORK_DIR / "instance"),
        "SECRET_KEY": "benchmark-secret",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def build_app(env: dict):
    """The application (this process's, for setup, checks and the profile) on an empty, migrated database."""
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "STORAGE_DIR", "SECRET_KEY")})
    app = create_app({"MAIL_SERVER": None})
    for name in ("gessin", "peewee_migrate", "huey"):
        logging.getLogger(name).setLevel(logging.WARNING)
    import tasks
    if type(tasks.huey).__name__ != "RedisHuey":
        raise RuntimeError(f"the task queue is {type(tasks.huey).__name__}, not RedisHuey: REDIS_URL not applied")
    with app.app_context(), db.connection_context():
        if not is_postgres():
            raise RuntimeError(f"{shown(env['DATABASE_URL'])} is not a PostgreSQL database")
        db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        upgrade()
    return app


def seed(app, redis_client: redis.Redis) -> tuple:
    """One ASP centre, the insurers WinCar names, REPAIRERS repairers with WinCar credentials."""
    from workflows import credentials
    with app.app_context(), db.connection_context():
        centre = factories.centre(name="Centro ASP Bench")
        for name in INSURERS:
            factories.insurer(name=name)
        logins = []
        for i in range(REPAIRERS):
            repairer = factories.repairer(name=f"Carrozzeria Bench {i + 1}")
            logins.append(credentials.issue(repairer, f"BENCH{i + 1:03d}", f"{PASSWORD}-{i + 1}"))
    redis_client.flushdb()  # the credentials e-mails: the queue starts empty
    return centre, logins


# ---- gunicorn ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_bin() -> str:
    local = Path(sys.executable).parent / "gunicorn"
    return str(local) if local.exists() else (shutil.which("gunicorn") or str(ROOT / ".venv" / "bin" / "gunicorn"))


class Server:
    """gunicorn serving the app on a free port of 127.0.0.1; its output goes to a log file."""

    def __init__(self, workers: int, env: dict):
        self.workers, self.env = workers, env
        self.port = free_port()
        self.log_path = WORK_DIR / f"gunicorn-{workers}w-{'tuned' if 'GLIBC_TUNABLES' in env else 'default'}.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self):
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [gunicorn_bin(), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                 "--no-control-socket", "app:create_app()"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until every worker is up and the app answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.proc.returncode}:\n{self.log_tail()}")
            if len(self.worker_pids()) >= self.workers:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                    conn.request("GET", "/api/v1/openapi.json")
                    status = conn.getresponse().status
                    conn.close()
                    if status == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not answering on 127.0.0.1:{self.port} after {timeout:.0f} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The workers: processes whose parent is gunicorn's master."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry.name))
        return pids

    def workers_cpu(self) -> float:
        """CPU seconds (user + system) the workers have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.worker_pids():
            fields = _stat(pid)
            if fields is not None:
                total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # graceful: workers finish their request
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _stat(pid) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def postgres_cpu() -> float:
    """CPU seconds of the local PostgreSQL server: its live processes, plus what its exited
    children (a backend per connection) left in the postmaster's cutime/cstime. Includes
    other clients' backends; 0 when the server is not local or not visible."""
    ticks = os.sysconf("SC_CLK_TCK")
    processes = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    processes[int(entry.name)] = _stat(entry.name)
            except OSError:
                continue
    total = 0.0
    for fields in processes.values():
        if fields is None:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if int(fields[1]) not in processes:  # the postmaster: its reaped children too
            total += int(fields[13]) + int(fields[14])
    return total / ticks


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, already counted in user
    return total - idle, total


def background_busy(seconds: float = 2.0) -> float:
    """Share of the cores busy while this benchmark does nothing: other processes' load."""
    busy0, total0 = machine_cpu()
    time.sleep(seconds)
    busy1, total1 = machine_cpu()
    return (busy1 - busy0) / max(total1 - total0, 1)


# ---- clients -------------------------------------------------------------------------

class Client:
    """One WinCar client: a connection kept open while the server keeps it."""

    def __init__(self, port: int):
        self.port, self.conn, self.opened = port, None, 0

    def post(self, post: Post) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.opened += 1
        try:
            self.conn.request("POST", ENDPOINT, body=post.pieces, headers=post.headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Result:
    ref: str
    status: int | str
    seconds: float
    answer: dict = field(default_factory=dict)


@dataclass
class Pass:
    label: str
    clients: int
    results: list[Result]
    wall: float
    client_cpu: float
    workers_cpu: float
    postgres_cpu: float
    machine_busy: float  # share of all cores busy during the pass
    connections: int
    server_ms: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.results) / self.wall

    def latencies_ms(self) -> list[float]:
        return sorted(r.seconds * 1000 for r in self.results)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_ms())

    def p95_ms(self) -> float:
        times = self.latencies_ms()
        return statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]

    def statuses(self) -> Counter:
        return Counter(r.status for r in self.results)


def run_pass(label: str, server: Server, batches: list[list[Post]]) -> Pass:
    """Each batch posted by its own client thread, all starting together; wall time to the last answer."""
    results: list[list[Result]] = [[] for _ in batches]
    clients = [Client(server.port) for _ in batches]
    start = threading.Barrier(len(batches) + 1)

    def work(k: int) -> None:
        start.wait()
        for post in batches[k]:
            began = time.perf_counter()
            try:
                status, data = clients[k].post(post)
            except Exception as exc:  # noqa: BLE001 - counted and reported: the pass fails loudly
                results[k].append(Result(post.ref, f"{type(exc).__name__}: {exc}", time.perf_counter() - began))
                continue
            elapsed = time.perf_counter() - began
            try:
                answer = json.loads(data)
            except ValueError:
                answer = {"raw": data[:300].decode(errors="replace")}
            results[k].append(Result(post.ref, status, elapsed, answer))
        clients[k].close()

    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(len(batches))]
    for thread in threads:
        thread.start()
    cpu0, workers0, pg0, (busy0, total0) = time.process_time(), server.workers_cpu(), postgres_cpu(), machine_cpu()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    busy1, total1 = machine_cpu()
    return Pass(label, len(batches), [r for rs in results for r in rs], wall, time.process_time() - cpu0,
                server.workers_cpu() - workers0, postgres_cpu() - pg0, (busy1 - busy0) / max(total1 - total0, 1),
                sum(c.opened for c in clients))


def require_created(result: Pass) -> None:
    """Every post answered 201 with its claim number and five documents added; else fail loudly."""
    bad = [r for r in result.results if r.status != 201 or r.answer.get("attachments_added") != len(DOCUMENTS)]
    if bad:
        first = bad[0]
        raise RuntimeError(f"{result.label}: {len(bad)} of {len(result.results)} posts not created "
                           f"(statuses {dict(result.statuses())}); first: {first.ref}: {first.status} "
                           f"{json.dumps(first.answer, ensure_ascii=False)[:500]}")
    numbers = [r.answer["number"] for r in result.results]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"{result.label}: the same claim number given twice")


# ---- checks -----------------------------------------------------------------------------

def verify(app, result: Pass, hashed: int = 5) -> str:
    """The claims of a pass in the database, with their documents on disk and their e-mails
    in the outbox. Returns a summary line; fills result.server_ms."""
    from workflows.attachments import storage_path
    refs = [r.ref for r in result.results]
    storage = app.config["STORAGE_DIR"]
    sizes = {kind: size for kind, _n, _h, _t, size in DOCUMENTS}
    with app.app_context(), db.connection_context():
        claims = {c.wincar_ref: c for c in Claim.select(Claim.id, Claim.number, Claim.wincar_ref)
                  .where(Claim.wincar_ref.in_(refs))}
        if len(claims) != len(refs):
            raise RuntimeError(f"{result.label}: {len(refs)} claims posted, {len(claims)} in the database")
        for r in result.results:
            if claims[r.ref].number != r.answer["number"]:
                raise RuntimeError(f"{r.ref}: answered {r.answer['number']}, saved as {claims[r.ref].number}")
        ids = [c.id for c in claims.values()]
        attachments = list(Attachment.select().where(Attachment.claim.in_(ids)))
        per_claim = Counter(a.claim_id for a in attachments)
        wrong = [cid for cid in ids if per_claim[cid] != len(DOCUMENTS)]
        if wrong:
            raise RuntimeError(f"{result.label}: {len(wrong)} claims without exactly {len(DOCUMENTS)} attachments")
        on_disk = 0
        for i, a in enumerate(attachments):
            path = storage_path(storage, a.stored_name)
            if a.size != sizes[a.kind] or a.version != 1:
                raise RuntimeError(f"attachment {a.id} ({a.kind}): size {a.size}, version {a.version}")
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                raise RuntimeError(f"attachment {a.id} ({a.kind}): file {path} missing")
            if size != a.size:
                raise RuntimeError(f"attachment {a.id}: {size} bytes on disk, {a.size} recorded")
            if i < hashed and hashlib.sha256(path.read_bytes()).hexdigest() != a.sha256:
                raise RuntimeError(f"attachment {a.id}: sha256 of the file differs from the recorded one")
            on_disk += size
        emails = OutboundEmail.select().where(OutboundEmail.claim.in_(ids)).count()
        if emails != EMAILS_PER_CLAIM * len(ids):
            raise RuntimeError(f"{result.label}: {emails} outbox e-mails, expected {EMAILS_PER_CLAIM * len(ids)}")
        texts = OutboundEmail.select(OutboundEmail.message).where(OutboundEmail.claim.in_(ids)).distinct().count()
        if texts != emails:  # the repairer's and the centre's e-mails say different things
            raise RuntimeError(f"{result.label}: {texts} stored texts for {emails} outbox e-mails")
        events = list(IntakeEvent.select(IntakeEvent.http_status, IntakeEvent.duration_ms)
                      .where(IntakeEvent.wincar_ref.in_(refs)))
        if sorted(e.http_status for e in events) != [201] * len(refs):
            raise RuntimeError(f"{result.label}: intake log has {Counter(e.http_status for e in events)}")
        result.server_ms = sorted(e.duration_ms for e in events)
    return (f"checked: {len(ids)} claims, {len(attachments)} attachments ({len(DOCUMENTS)} each, "
            f"{min(hashed, len(attachments))} re-hashed), {on_disk / 1e6:,.1f} MB on disk, {emails} outbox e-mails")


def verify_queue(redis_client: redis.Redis, claims: int, queued_before: int) -> int:
    """The e-mails' huey tasks of `claims` new claims, queued in Redis; returns the tasks now queued."""
    import tasks
    queued = tasks.huey.pending_count()
    if queued - queued_before != EMAILS_PER_CLAIM * claims:
        raise RuntimeError(f"{queued - queued_before} huey tasks queued in Redis for {claims} claims, "
                           f"expected {EMAILS_PER_CLAIM * claims}")
    print(f"  huey: {queued - queued_before} e-mail tasks queued in Redis db "
          f"{redis_client.connection_pool.connection_kwargs.get('db')} for the {claims} claims of all passes "
          f"({EMAILS_PER_CLAIM} each, none run)")
    return queued


def remove_files(app, result: Pass) -> None:
    """The documents of a checked pass, deleted to spare the disk (about 2 MB a claim)."""
    from workflows.attachments import storage_path
    with app.app_context(), db.connection_context():
        names = [a.stored_name for a in Attachment.select(Attachment.stored_name).join(Claim)
                 .where(Claim.wincar_ref.in_([r.ref for r in result.results]))]
    for name in names:
        storage_path(app.config["STORAGE_DIR"], name).unlink(missing_ok=True)


# ---- report -----------------------------------------------------------------------------

def print_pass(result: Pass, cores: int) -> None:
    n = len(result.results)
    server = result.server_ms
    print(f"{result.label}: {n} claims from {result.clients} client(s) in {result.wall:.2f} s: "
          f"{result.rate:.1f} claims/s")
    print(f"  latency ms: median {result.median_ms:.1f}, p95 {result.p95_ms():.1f}, max {result.latencies_ms()[-1]:.1f}; "
          f"server-side (IntakeEvent.duration_ms) median {statistics.median(server):.0f}, max {server[-1]}")
    print(f"  HTTP statuses: {dict(result.statuses())}; {result.connections} connections opened")
    print(f"  CPU per claim: gunicorn workers {result.workers_cpu / n * 1000:.0f} ms, PostgreSQL "
          f"{result.postgres_cpu / n * 1000:.0f} ms, this client {result.client_cpu / n * 1000:.1f} ms; the machine "
          f"{result.machine_busy * cores * result.wall / n * 1000:.0f} ms ({result.machine_busy:.0%} of {cores} cores busy)")


# ---- profile ------------------------------------------------------------------------

# (label, match on pstats' (file, line, function)): cumulative time per request. They overlap
# (the SQL of the password lockout check is in both rows), so they do not add up to the total.
COSTS = (
    ("authenticate() in all", lambda f, n: f.endswith("intake_api/auth.py") and n == "authenticate"),
    ("  check_password_hash (salted HMAC-SHA256)", lambda f, n: n == "check_password_hash"),
    ("  recent_failures (one COUNT query)", lambda f, n: n == "recent_failures" and f.endswith("intake_api/auth.py")),
    ("_read_body (the body read)", lambda f, n: n == "_read_body"),
    ("validate_json (pydantic: JSON and base64)",
     lambda f, n: n == "<method 'validate_json' of 'pydantic_core._pydantic_core.SchemaValidator' objects>"),
    ("_audit_payload (the log's copy)", lambda f, n: n == "_audit_payload"),
    ("sha256", lambda f, n: "openssl_sha256" in n or n == "<method 'hexdigest' of '_hashlib.HASH' objects>"),
    ("file writes (Path.write_bytes)", lambda f, n: n == "write_bytes"),
    ("claim_fields (insurers by name)", lambda f, n: f.endswith("intake_api/views.py") and n == "claim_fields"),
    ("receive_new (all the saving)", lambda f, n: n == "receive_new"),
    ("  write_file x5 (name, file, sha256)", lambda f, n: n == "write_file"),
    ("  open_claim (number, history, outbox)", lambda f, n: n == "open_claim"),
    ("  e-mail templates (notify.render)", lambda f, n: f.endswith("workflows/notify.py") and n == "render"),
    ("  huey enqueue (tasks.mail.dispatch)", lambda f, n: f.endswith("tasks/mail.py") and n == "dispatch"),
    ("log_request (IntakeEvent row)", lambda f, n: n == "log_request"),
    ("SQL: cursor.execute", lambda f, n: n == "<method 'execute' of 'psycopg2.extensions.cursor' objects>"),
    ("SQL: commit", lambda f, n: n == "<method 'commit' of 'psycopg2.extensions.connection' objects>"),
    ("SQL: connect (one per request)", lambda f, n: "psycopg2._psycopg._connect" in n),
    ("logging (handlers)", lambda f, n: f.endswith("logging/__init__.py") and n == "callHandlers"),
)


class Statements:
    """While active: each SQL statement with its time (peewee's query hook), BEGIN and COMMIT
    included (they bypass the hook: timed by wrapping the database's begin and commit)."""

    def __init__(self):
        self.times: dict[str, list[float]] = {}

    def _add(self, shape: str, seconds: float) -> None:
        self.times.setdefault(shape, []).append(seconds)

    def _hook(self, event):
        self._add(statement_shape(event.sql), event.duration)

    def _timed(self, name: str, method):
        def call(*a, **kw):
            began = time.perf_counter()
            try:
                return method(*a, **kw)
            finally:
                self._add(name, time.perf_counter() - began)
        return call

    def __enter__(self):
        database = db.obj
        database.query_hooks.append(self._hook)
        database.begin = self._timed("BEGIN", database.begin)
        database.commit = self._timed("COMMIT", database.commit)
        return self

    def __exit__(self, *exc):
        database = db.obj
        database.query_hooks.remove(self._hook)
        del database.begin, database.commit  # the instance attributes: the class's methods again


def statement_shape(sql: str) -> str:
    """INSERT "attachment", SELECT "intake_event" (COUNT)...: what a statement does, to group them."""
    verb = sql.split(None, 1)[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK"):
        return " ".join(sql.split()[:2]).upper() if verb != "SAVEPOINT" else "SAVEPOINT"  # nested atomic()
    if verb == "SELECT":
        table = re.search(r'\bFROM "(\w+)"', sql)
        extra = " (COUNT)" if "COUNT(" in sql.upper() else " (MAX)" if "MAX(" in sql.upper() else ""
        return f'SELECT "{table.group(1) if table else "?"}"{extra}'
    table = re.search(r'(?:INTO|UPDATE) "(\w+)"', sql)
    return f'{verb} "{table.group(1)}"' if table else sql[:40]


def profile(app, payloads: Payloads, requests: int) -> None:
    """The same posts through the Flask test client in this process: median without the
    profiler, then the top costs under cProfile."""
    print(f"\n== profile: {requests} posts through the Flask test client in this process "
          f"(same database, Redis queue and storage)")
    gessin = logging.getLogger("gessin")  # logged as in gunicorn, to a file rather than the console
    handler = logging.FileHandler(WORK_DIR / "profile.log")
    saved = gessin.level, gessin.propagate
    gessin.setLevel(logging.INFO)
    gessin.propagate = False
    gessin.addHandler(handler)
    client = app.test_client()
    if os.environ.get("GLIBC_TUNABLES", "") != MALLOC_TUNABLES:
        print(f"(this process was started without GLIBC_TUNABLES={MALLOC_TUNABLES}: malloc not tuned "
              "as in production)")

    def send(post: Post) -> None:
        headers = {k: v for k, v in post.headers.items() if k not in ("Content-Type", "Content-Length")}
        response = client.post(ENDPOINT, data=post.body(), headers=headers, content_type="application/json")
        if response.status_code != 201:
            raise RuntimeError(f"profile post {post.ref}: HTTP {response.status_code} {response.get_data(as_text=True)[:300]}")

    try:
        for _ in range(3):
            send(payloads.post("P", 0))
        plain = [payloads.post("P", i) for i in range(requests)]
        times = []
        for post in plain:
            began = time.perf_counter()
            send(post)
            times.append((time.perf_counter() - began) * 1000)
        profiled = [payloads.post("P", i) for i in range(requests)]
        profiler = cProfile.Profile()
        began = time.perf_counter()
        profiler.enable()
        for post in profiled:
            send(post)
        profiler.disable()
        total_ms = (time.perf_counter() - began) * 1000 / requests
        with Statements() as statements:
            for i in range(requests):
                send(payloads.post("P", i))
    finally:
        gessin.removeHandler(handler)
        gessin.setLevel(saved[0])
        gessin.propagate = saved[1]
        handler.close()
    print(f"in-process, no profiler: median {statistics.median(times):.1f} ms, min {min(times):.1f} ms per post")
    print(f"under cProfile: {total_ms:.1f} ms per post (the profiler slows Python code, not C code)")
    stats = pstats.Stats(profiler)
    print(f"\n{'cost':<44} {'ms/post':>8} {'share':>6} {'calls/post':>10}")
    for label, match in COSTS:
        cum = calls = 0
        for (filename, _line, name), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
            if match(filename, name):
                cum += ct
                calls += nc
        print(f"{label:<44} {cum * 1000 / requests:>8.1f} {cum * 1000 / requests / total_ms:>6.0%} "
              f"{calls / requests:>10.1f}")
    timed = sorted(statements.times.items(), key=lambda item: -sum(item[1]))
    total_sql = sum(sum(t) for _, t in timed)
    count = sum(len(t) for _, t in timed)
    print(f"\nSQL of a post (no profiler): {count / requests:.1f} statements, {total_sql * 1000 / requests:.1f} ms "
          f"(execution as the client waits for it: network round trip, server work, WAL flush at COMMIT)")
    print(f"{'statement':<44} {'per post':>8} {'ms/post':>8} {'median ms':>9}")
    for shape, times in timed:
        print(f"{shape:<44} {len(times) / requests:>8.1f} {sum(times) * 1000 / requests:>8.2f} "
              f"{statistics.median(times) * 1000:>9.2f}")
    for order, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        out = io.StringIO()
        stats.stream = out
        stats.sort_stats(order).print_stats(18)
        text = out.getvalue()
        print(f"\ntop functions by {title} (all {requests} posts):")
        print(text[text.find("   ncalls"):].rstrip())


# ---- main -----------------------------------------------------------------------------

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
    env = server_env(args)
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
        with Server(workers, server_env_now) as server:
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
        profile(app, payloads, args.profile_requests)
    print()
    for workers, result, over in verdicts:
        figures = f"{result.rate:.1f} claims/s, median {result.median_ms:.0f} ms"
        print(f"gunicorn -w {workers}: {'OVER TARGET' if over else 'OK'} ({figures}; target >= {TARGET_RATE:.0f} "
              f"claims/s and median < {TARGET_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
