"""The floor of the intake benchmark (benchmarks/intake_floor_app.py): it must do the same
work as the app for a new claim, or its ratio says nothing."""
from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
from pathlib import Path

import pytest
from werkzeug.test import Client

from benchmarks.common import libpq_url
from benchmarks.intake_floor_app import ENDPOINT, FloorApp
from benchmarks.intake_payloads import DOCUMENTS, Payloads
from models import Attachment, Claim, IntakeEvent, OutboundEmail, ReminderDue
from workflows import credentials

FLOOR = Path(__file__).resolve().parent.parent / "benchmarks" / "intake_floor_app.py"
LIBRARIES = {"psycopg2", "redis", "pydantic_core"}  # the drivers and the decoder the app itself uses
postgres_only = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                                   reason="needs PostgreSQL (DATABASE_URL=postgresql://...)")


class Queue:
    """Stands in for Redis: what the floor hands over."""

    def __init__(self):
        self.lists: dict[str, list] = {}

    def rpush(self, key, *values):
        self.lists.setdefault(key, []).extend(values)


def floor_client(tmp_path, logins, database_url="postgresql://nowhere/none", queue=None) -> Client:
    environ = {"FLOOR_DATABASE_URL": database_url, "FLOOR_REDIS_URL": "redis://127.0.0.1:1/9",
               "STORAGE_DIR": str(tmp_path / "storage"), "FLOOR_LOGINS": json.dumps(logins)}
    return Client(FloorApp(environ, queue or Queue()))


def send(client, post):
    return client.post(ENDPOINT, data=post.body(), headers=post.headers)


def test_the_floor_imports_nothing_of_the_app_and_no_flask():
    imported = set()
    for node in ast.walk(ast.parse(FLOOR.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert sorted(imported - set(sys.stdlib_module_names) - LIBRARIES) == []


def test_the_floor_refuses_a_wrong_password_before_touching_the_database(tmp_path):
    client = floor_client(tmp_path, [["BENCH001", "giusta-1234567890"]])

    class Centre:
        vat_number, name = "00000020156", "Centro"
    post = Payloads(Centre(), [("BENCH001", "sbagliata-123456789")]).post("T", 0)
    response = send(client, post)
    assert response.status_code == 401
    assert not (tmp_path / "storage").exists()
    assert client.get("/ping").status_code == 200


@pytest.mark.postgres
@postgres_only
def test_the_floor_writes_for_a_new_claim_the_rows_the_app_writes(app, f, client, tmp_path, database_url,
                                                                   monkeypatch):
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
    centre = f.centre(name="Centro ASP Bench")
    logins = [credentials.issue(f.repairer(), "BENCH001", "wincar-bench-2026-1")]
    OutboundEmail.delete().execute()  # the credentials' e-mail
    payloads, queue = Payloads(centre, logins), Queue()
    floor = floor_client(tmp_path, logins, libpq_url(database_url), queue)

    by_app, by_floor = payloads.post("APP", 0), payloads.post("FLOOR", 0)
    assert send(client, by_app).status_code == 201
    answer = send(floor, by_floor)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.json["attachments_added"] == len(DOCUMENTS)

    def rows(ref: str) -> dict:
        claim = Claim.get(Claim.wincar_ref == ref)
        return {"number": claim.number.split("/")[0], "status": claim.status, "version": claim.version,
                "attachments": sorted((a.kind, a.size, a.version) for a in claim.attachments),
                "history": [(s.event, s.to_status) for s in claim.history],
                "reminder": ReminderDue.select().where(ReminderDue.claim == claim).count(),
                "e-mails": sorted(e.recipients for e in claim.emails),
                "intake log": [(e.http_status, e.wincar_user) for e in
                               IntakeEvent.select().where(IntakeEvent.wincar_ref == ref)]}
    assert rows(by_floor.ref) == rows(by_app.ref)

    claim = Claim.get(Claim.wincar_ref == by_floor.ref)
    assert answer.json["number"] == claim.number
    assert int(claim.number[5:]) == int(Claim.get(Claim.wincar_ref == by_app.ref).number[5:]) + 1  # one counter
    for a in Attachment.select().where(Attachment.claim == claim):
        stored = tmp_path / "storage" / a.stored_name[:2] / a.stored_name
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == a.sha256
    assert sorted(queue.lists["gessin-bench-floor-outbox"]) == sorted(e.id for e in claim.emails)
