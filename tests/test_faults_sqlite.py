"""The embedded default (`make run`) under ordinary concurrency.

What the Procfile runs, as subprocesses on 127.0.0.1: `flask run` (threaded) on SQLite and
the huey consumer on SQLite, sending the outbox. Four WinCar clients post seguiti while an
ASP manager drops claims in bulk: every post is accepted or answered 503 with
`Retry-After`, never a 500, and neither process logs a "database is locked" traceback.
It runs on its own SQLite file whatever DATABASE_URL the suite uses.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from .load_sqlite import MANAGER_PASSWORD, WINCAR_PASSWORD, WINCAR_USER
from .servers import free_port, wait_until_serving
from .test_intake import PDF, payload

ROOT = Path(__file__).resolve().parent.parent
CLIENTS, POSTS_EACH, CLAIMS, BULK_ROUNDS, BULK_JOB = 4, 12, 24, 6, 800


@pytest.fixture
def embedded(tmp_path):
    """`make run`'s two processes on a fresh SQLite database; yields (port, rows, logs, database file)."""
    database = tmp_path / "gessin.db"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "HUEY_IMMEDIATE", "MAIL_SERVER")}
    env.update(DATABASE_URL=f"sqlite:///{database}", GESSIN_INSTANCE=str(tmp_path / "instance"),
               STORAGE_DIR=str(tmp_path / "storage"), SECRET_KEY="test-secret", PYTHONUNBUFFERED="1",
               MAIL_RETRY_BASE_SECONDS="1")
    setup = subprocess.run([sys.executable, "-m", "tests.load_sqlite", str(CLAIMS), str(BULK_JOB)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert setup.returncode == 0, setup.stderr
    rows = json.loads(setup.stdout.strip().splitlines()[-1])
    port = free_port()
    logs = {"web": tmp_path / "web.log", "worker": tmp_path / "worker.log"}
    commands = {"web": [sys.executable, "-m", "flask", "--app", "app", "run", "--host", "127.0.0.1",
                        "--port", str(port)],
                "worker": [sys.executable, "-m", "huey.bin.huey_consumer", "tasks.huey", "--workers", "2",
                           "--flush-locks"]}
    processes = []
    try:
        for name, command in commands.items():
            with open(logs[name], "wb") as out:
                processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                                  stderr=subprocess.STDOUT))
        wait_until_serving(port, processes, lambda: "\n".join(p.read_text() for p in logs.values()))
        yield port, rows, logs, database
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


class Centre:  # what tests.test_intake.payload reads of a centre
    def __init__(self, rows):
        self.vat_number, self.name = rows["vat"], rows["centre"]


def _post_seguiti(port, rows, client: int, answers: list, job_posted: threading.Event):
    job_posted.wait(timeout=120)
    token = base64.b64encode(f"{WINCAR_USER}:{WINCAR_PASSWORD}".encode()).decode()
    claims = rows["claims"]
    for n in range(POSTS_EACH):
        _claim_id, ref = claims[(client * POSTS_EACH + n) % len(claims)]
        # the same data each time: after a claim's first seguito, the others only add a document
        body = payload(Centre(rows), wincar_ref=ref, event="seguito", estimate_amount="1500.00")
        body["attachments"] = [{"type": "foto", "filename": f"foto-{client}-{n}.pdf",
                                "content_base64": base64.b64encode(PDF + os.urandom(20_000)).decode()}]
        data = json.dumps(body).encode()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("POST", "/api/v1/claims", body=data, headers={
            "Authorization": f"Basic {token}", "Content-Type": "application/json"})
        response = conn.getresponse()
        answers.append((response.status, response.getheader("Retry-After"), response.read()))
        conn.close()


def _bulk_drops(port, rows, outcomes: list, job_posted: threading.Event):
    """An ASP manager drops the claims four at a time from the grid, as the browser posts it."""
    base = f"http://127.0.0.1:{port}"
    with requests.Session() as browser:
        page = browser.get(f"{base}/login", timeout=60).text
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
        browser.post(f"{base}/login", data={"login": rows["manager"], "password": MANAGER_PASSWORD,
                                            "csrf_token": token}, timeout=60)
        ids = [claim_id for claim_id, _ref in rows["claims"]]
        grid = browser.get(f"{base}/admin/claim/", timeout=60).text
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', grid).group(1)
        answer = browser.post(f"{base}/admin/claim/action/", allow_redirects=False, timeout=120, data={
            "csrf_token": token, "action": "drop", "reason": "duplicate", "url": "/admin/claim/",
            "rowid": rows["others"]})  # over BULK_INLINE_LIMIT: a job for the worker
        outcomes.append((answer.status_code, answer.headers.get("Retry-After")))
        job_posted.set()
        for round_ in range(BULK_ROUNDS):
            grid = browser.get(f"{base}/admin/claim/", timeout=60).text
            token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', grid).group(1)
            chosen = ids[round_ * 4:round_ * 4 + 4]
            answer = browser.post(f"{base}/admin/claim/action/", allow_redirects=False, timeout=120, data={
                "csrf_token": token, "action": "drop", "reason": "duplicate", "url": "/admin/claim/",
                "rowid": chosen})
            outcomes.append((answer.status_code, answer.headers.get("Retry-After")))


def test_concurrent_seguiti_a_bulk_action_and_the_worker_on_the_embedded_default(embedded):
    port, rows, logs, database = embedded
    answers, bulk, job_posted = [], [], threading.Event()
    threads = [threading.Thread(target=_post_seguiti, args=(port, rows, n, answers, job_posted))
               for n in range(CLIENTS)]
    threads.append(threading.Thread(target=_bulk_drops, args=(port, rows, bulk, job_posted)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert len(answers) == CLIENTS * POSTS_EACH and len(bulk) == BULK_ROUNDS + 1

    statuses = sorted(status for status, _retry, _body in answers)
    unanswered = [(status, body[:300]) for status, retry, body in answers
                  if status != 200 and not (status == 503 and retry and int(retry) > 0)]
    assert not unanswered, [s for s in statuses if s != 200]
    assert all(status in (302, 200) or (status == 503 and retry) for status, retry in bulk), bulk

    with sqlite3.connect(database) as check:  # one history row per accepted seguito, the worker's job done
        seguiti = check.execute("SELECT COUNT(*) FROM status_change WHERE event = 'seguito'").fetchone()[0]
        deadline = time.monotonic() + 120
        while check.execute("SELECT status FROM bulk_job").fetchone()[0] != "done":
            assert time.monotonic() < deadline, logs["worker"].read_text()[-5000:]
            time.sleep(0.5)
        dropped = check.execute("SELECT COUNT(*) FROM claim WHERE status = 'dropped' AND wincar_ref IS NULL") \
            .fetchone()[0]
    assert seguiti == statuses.count(200)
    assert dropped == BULK_JOB
    web, worker = logs["web"].read_text(), logs["worker"].read_text()
    assert "database is locked" not in web and "Traceback" not in web, web[-5000:]
    assert "database is locked" not in worker and "Traceback" not in worker, worker[-5000:]
