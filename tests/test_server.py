"""The app under gunicorn with the production settings of gunicorn.conf.py.

The intake reads a request body from the server's own stream, which the test
client does not have: these posts go through a real gunicorn on 127.0.0.1.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import runpy
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from models import Attachment, Claim, IntakeEvent, db
from workflows import credentials

from .servers import free_port, wait_until_serving
from .test_intake import PDF, PNG, payload

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "gunicorn.conf.py"


def test_the_settings_size_the_workers_and_leave_malloc_to_the_deployment():
    settings = runpy.run_path(str(SETTINGS))
    assert settings["workers"] >= 1 and settings["timeout"] >= 30 and settings["max_requests"] > 0
    tunables = dict(item.split("=") for item in settings["MALLOC_TUNABLES"].split(":"))
    assert tunables == {"glibc.malloc.mmap_threshold": str(32 * 1024 * 1024),
                        "glibc.malloc.trim_threshold": str(128 * 1024 * 1024)}
    assert "ctypes" not in SETTINGS.read_text()  # glibc reads its tunables from the environment, not from code
    assert f"GLIBC_TUNABLES={settings['MALLOC_TUNABLES']}" in (ROOT / "README.md").read_text()


@pytest.fixture
def gunicorn(app, database_url, tmp_path):
    """gunicorn serving the app from the repository (so with gunicorn.conf.py), one worker."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("GUNICORN_CMD_ARGS", "REDIS_URL", "PUBLIC_URL")}
    env.update(DATABASE_URL=database_url, SECRET_KEY="test-secret", STORAGE_DIR=str(tmp_path / "storage"),
               GESSIN_INSTANCE=str(tmp_path / "instance"), HUEY_IMMEDIATE="0", PYTHONUNBUFFERED="1",
               GLIBC_TUNABLES=runpy.run_path(str(SETTINGS))["MALLOC_TUNABLES"])
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
                                 "--log-level", "debug", "app:create_app()"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_serving(port, [proc], log.read_text, seconds=30)
        yield port, log, tmp_path / "storage"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def wincar(f):
    centre, repairer = f.centre(), f.repairer()
    credentials.issue(repairer, "GUNI001", "password-di-prova-1")
    db.close()  # the rows are committed: gunicorn's worker reads them
    return centre


def _headers(length: int) -> dict:
    token = base64.b64encode(b"GUNI001:password-di-prova-1").decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json", "Content-Length": str(length)}


def test_a_wincar_post_through_gunicorn_with_the_production_settings(gunicorn, wincar, database_url):
    port, log, storage = gunicorn
    body = payload(wincar)
    body["attachments"].append({"type": "mandato", "filename": "mandato.pdf",
                                "content_base64": base64.b64encode(PDF + os.urandom(3_000_000)).decode()})
    data = json.dumps(body).encode()  # about 4 MB: read in several steps by the server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/api/v1/claims", body=data, headers=_headers(len(data)))
    response = conn.getresponse()
    answer = json.loads(response.read())
    assert response.status == 201, answer
    claim = Claim.get(Claim.number == answer["number"])
    sizes = sorted(a.size for a in Attachment.select().where(Attachment.claim == claim))
    assert sizes == sorted([len(PDF), len(PNG), len(PDF) + 3_000_000])
    assert sum(p.stat().st_size for p in storage.rglob("*") if p.is_file()) == sum(sizes)
    settings = log.read_text()
    assert "max_requests: 2000" in settings  # gunicorn read gunicorn.conf.py
    assert "GLIBC_TUNABLES does not keep" not in settings  # started as the README says
    assert "PUBLIC_URL is not set" in settings  # the fixture leaves it out: e-mail links would be wrong
    assert ("connection per request" in settings) == database_url.startswith("postgresql://")


def test_a_body_cut_short_through_gunicorn_is_400_and_leaves_nothing(gunicorn, wincar):
    port, log, storage = gunicorn
    data = json.dumps(payload(wincar)).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in _headers(len(data) + 1000).items())
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"POST /api/v1/claims HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode() + data)
        sock.shutdown(socket.SHUT_WR)  # the client gives up 1,000 bytes before the end
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 400 " in status_line, answer[:500]
    assert "incompleto" in json.loads(rest.split(b"\r\n\r\n", 1)[1])["detail"]
    assert Claim.select().count() == 0 and Attachment.select().count() == 0
    assert not storage.exists() or not any(p.is_file() for p in storage.rglob("*"))
    assert IntakeEvent.get().http_status == 400
