"""One WinCar post profiled in the benchmark's own process: the app with the same
configuration, posts through the Flask test client, first without the profiler, then under
cProfile (the candidate costs, the top functions), then with each SQL statement timed."""
from __future__ import annotations

import cProfile
import io
import logging
import os
import pstats
import re
import statistics
import time

from intake_payloads import ENDPOINT, Payloads, Post
from intake_server import MALLOC_TUNABLES
from models import db

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


def profile(app, payloads: Payloads, requests: int, work_dir) -> None:
    """The same posts through the Flask test client in this process: median without the
    profiler, then the top costs under cProfile."""
    print(f"\n== profile: {requests} posts through the Flask test client in this process "
          f"(same database, Redis queue and storage)")
    gessin = logging.getLogger("gessin")  # logged as in gunicorn, to a file rather than the console
    handler = logging.FileHandler(work_dir / "profile.log")
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


