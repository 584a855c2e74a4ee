"""Database faults answered honestly: a dropped connection, a busy SQLite, a COMMIT whose answer
was lost, a seguito meeting a clerk's change.

The PostgreSQL scenarios terminate the test's own sessions with `pg_terminate_backend` from
a separate connection; the SQLite ones hold the write lock from a second connection.
"""
from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import sqlite3
import time

import peewee as pw
import pytest

import models
from models import Attachment, Claim, ClaimStatus, IntakeEvent, Role, StatusChange, db
from models.connections import BUSY_TIMEOUT_MS, RETRY_AFTER_SECONDS
from workflows import intake
from workflows.bulk import apply_many

from .conftest import csrf_token, login
from .test_intake import payload, post, shop, stored_files  # noqa: F401 - fixtures and builders

postgres_only = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                                   reason="needs PostgreSQL (DATABASE_URL=postgresql://...)")


@pytest.fixture(autouse=True)
def _fresh_connection_afterwards(app):
    """A test may leave this thread's connection terminated: the cleanup gets a working one."""
    yield
    db.reconnect()


def terminate_sessions(database_url: str) -> int:
    """End every other session of the test database (this process's included), as an operator would."""
    import psycopg2
    with contextlib.closing(psycopg2.connect(database_url)) as killer:
        killer.autocommit = True
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            ended = cursor.rowcount
            for _ in range(100):  # the backends exit on their own time: wait until they are gone
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.05)
    return ended


def _retry_after(response) -> int:
    return int(response.headers["Retry-After"])


# ---- a connection dropped ---------------------------------------------------------------

@pytest.mark.postgres
@postgres_only
def test_a_connection_dropped_before_the_request_is_replaced_and_the_post_succeeds(client, shop, database_url):
    centre, _repairer = shop
    assert terminate_sessions(database_url) >= 1  # the connection this thread (and the request) holds
    response = post(client, payload(centre))
    assert response.status_code == 201, response.json
    assert Claim.get(Claim.number == response.json["number"]).wincar_ref == "WC-2026-001"
    assert IntakeEvent.get().http_status == 201


@pytest.mark.postgres
@postgres_only
def test_a_connection_dropped_during_the_post_is_503_and_says_to_retry(client, shop, database_url, app,
                                                                      monkeypatch):
    centre, _repairer = shop
    original = intake.mark_duplicates

    def check_after_the_drop(claim):
        terminate_sessions(database_url)
        return original(claim)  # its query (the same plate and day) meets the dropped connection
    monkeypatch.setattr(intake, "mark_duplicates", check_after_the_drop)
    response = post(client, payload(centre))
    assert response.status_code == 503, response.json
    assert _retry_after(response) == RETRY_AFTER_SECONDS
    assert response.mimetype == "application/problem+json"
    assert "Ripetere lo stesso invio" in response.json["detail"]
    assert Claim.select().count() == 0 and stored_files(app) == []
    event = IntakeEvent.get()  # written on a fresh connection
    assert (event.http_status, event.wincar_ref) == (503, "WC-2026-001")

    monkeypatch.setattr(intake, "mark_duplicates", original)  # WinCar retries, as told
    assert post(client, payload(centre)).status_code == 201


@pytest.mark.postgres
@postgres_only
def test_the_intake_log_row_of_an_accepted_claim_survives_a_connection_drop(client, shop, database_url,
                                                                           monkeypatch):
    from intake_api import views
    centre, _repairer = shop
    original = views._out

    def answer_then_drop(*args):
        answer = original(*args)
        terminate_sessions(database_url)  # the claim is saved and the answer ready: the log row meets the drop
        return answer
    monkeypatch.setattr(views, "_out", answer_then_drop)
    response = post(client, payload(centre))
    assert response.status_code == 201, response.json
    event = IntakeEvent.get()
    assert (event.http_status, event.claim.number) == (201, response.json["number"])


def test_the_intake_log_row_goes_to_the_application_log_when_the_database_cannot_take_it(
        client, shop, monkeypatch, caplog):
    centre, _repairer = shop

    def refuse(**row):
        raise pw.OperationalError("database is locked")
    monkeypatch.setattr(IntakeEvent, "create", refuse)
    with caplog.at_level(logging.INFO, logger="gessin.intake"):
        response = post(client, payload(centre), headers={"Idempotency-Key": "chiave-1"})
    assert response.status_code == 201
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR and "intake event" in r.getMessage()]
    assert len(lines) == 1
    assert "{" in lines[0], lines[0]  # the whole row, as JSON
    row = json.loads(lines[0][lines[0].index("{"):])["intake_event"]
    assert (row["http_status"], row["wincar_ref"], row["idempotency_key"], row["wincar_user"]) == \
        (201, "WC-2026-001", "chiave-1", "CARR001")
    assert row["claim"] == Claim.get().id and json.loads(row["payload"])["event"] == "nuovo"


# ---- a COMMIT whose answer was lost -------------------------------------------------------

def test_a_commit_lost_on_the_way_back_keeps_the_saved_claims_files(client, shop, app, database_url, monkeypatch):
    """The claim is saved, the app sees an error: its files stay, and WinCar's retry gets the same number."""
    centre, _repairer = shop
    real_commit, real_rollback, lost = db.obj.commit, db.obj.rollback, []

    def commit_then_lose_the_connection():
        real_commit()
        if not lost:
            lost.append(True)
            if models.is_postgres():
                terminate_sessions(database_url)  # the ROLLBACK that follows meets a dead connection
            raise pw.OperationalError("server closed the connection unexpectedly")

    def rollback():
        if lost and not models.is_postgres():  # SQLite: the connection is gone as far as the driver knows
            raise pw.InterfaceError("connection already closed")
        return real_rollback()
    monkeypatch.setattr(db.obj, "commit", commit_then_lose_the_connection)
    monkeypatch.setattr(db.obj, "rollback", rollback)
    response = post(client, payload(centre))
    assert response.status_code == 503 and _retry_after(response) == RETRY_AFTER_SECONDS
    monkeypatch.setattr(db.obj, "rollback", real_rollback)

    claim = Claim.get()  # it was saved
    names = sorted(a.stored_name for a in Attachment.select().where(Attachment.claim == claim))
    assert len(names) == 2 and sorted(p.name for p in stored_files(app)) == names
    again = post(client, payload(centre))
    assert again.status_code == 200 and again.json["number"] == claim.number
    assert Claim.select().count() == 1 and len(stored_files(app)) == 2


def test_files_of_a_save_that_failed_before_commit_are_removed(client, shop, app, monkeypatch):
    centre, _repairer = shop

    def refuse():
        raise pw.OperationalError("server closed the connection unexpectedly")
    monkeypatch.setattr(db.obj, "commit", refuse)
    response = post(client, payload(centre))
    assert response.status_code == 503
    assert Claim.select().count() == 0 and stored_files(app) == []


# ---- SQLite: busy ------------------------------------------------------------------------

class Writer:
    """A second connection to the SQLite file, holding its write lock while asked to."""

    def __init__(self, path: str):
        self.connection = sqlite3.connect(path, isolation_level=None)

    @contextlib.contextmanager
    def holding_the_lock(self):
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            self.connection.execute("ROLLBACK")


@pytest.fixture
def writer(app, database_url):
    """The app waits 100 ms for SQLite's lock at a time (not 5 s) while another connection may hold it."""
    if models.is_postgres():
        pytest.skip("SQLite's write lock")
    db.start_work()
    db.obj.pragma("busy_timeout", 100, permanent=True)  # this connection and the ones the requests open
    other = Writer(database_url.removeprefix("sqlite:///"))
    yield other
    other.connection.close()
    db.obj.pragma("busy_timeout", BUSY_TIMEOUT_MS, permanent=True)


def test_a_transaction_begins_immediate_on_sqlite(app):
    if models.is_postgres():
        pytest.skip("SQLite's write lock")
    statements = []
    db.start_work()
    db.obj.connection().set_trace_callback(statements.append)  # the sqlite3 driver's own hook
    try:
        with db.atomic():
            db.execute_sql("SELECT 1")
    finally:
        db.obj.connection().set_trace_callback(None)
    assert statements[0] == "BEGIN IMMEDIATE"


def test_a_busy_sqlite_answers_wincar_503_with_retry_after_and_keeps_nothing(client, shop, app, writer, caplog):
    centre, _repairer = shop
    with caplog.at_level(logging.INFO), writer.holding_the_lock():
        response = post(client, payload(centre))
    assert response.status_code == 503, response.json
    assert _retry_after(response) == RETRY_AFTER_SECONDS and response.mimetype == "application/problem+json"
    assert "Ripetere lo stesso invio" in response.json["detail"]
    assert stored_files(app) == []
    assert not [r for r in caplog.records if r.exc_info]  # no traceback: a fault, not a bug
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("intake event not stored")]
    assert len(logged) == 1 and '"http_status": 503' in logged[0]  # the log row could not wait either
    assert Claim.select().count() == 0 and Attachment.select().count() == 0


def test_a_busy_sqlite_shows_people_an_italian_page_with_retry_after(client, f, writer):
    centre = f.centre()
    claim = f.claim(f.repairer(), centre)
    login(client, f.user(Role.ASP_MANAGER, asp_centre=centre))
    token = csrf_token(client, "/admin/claim/")
    with writer.holding_the_lock():
        response = client.post(f"/admin/claim/act/{claim.id}/drop", data={
            "csrf_token": token, "reason": "duplicate", "version": claim.version})
    assert response.status_code == 503 and _retry_after(response) == RETRY_AFTER_SECONDS
    page = response.get_data(as_text=True)
    assert "Portale momentaneamente occupato" in page and "riprova tra qualche secondo" in page
    assert Claim.get_by_id(claim.id).status == ClaimStatus.RECEIVED


# ---- a seguito meets a clerk's change -----------------------------------------------------

def _opened(client, centre):
    first = payload(centre)
    number = post(client, first).json["number"]
    return Claim.get(Claim.number == number), first


def _seguito(first, **changes):
    follow = copy.deepcopy(first)
    follow.update(event="seguito", **changes)
    follow["attachments"] = [{"type": "mandato", "filename": "mandato.pdf",
                              "content_base64": first["attachments"][0]["content_base64"]}]
    return follow


def test_a_seguito_that_meets_a_clerks_bulk_change_is_applied_again_and_accepted(client, shop, f, app, monkeypatch):
    centre, _repairer = shop
    claim, first = _opened(client, centre)
    manager = f.user(Role.ASP_MANAGER, asp_centre=centre)
    original, raced = intake.keep_hand_set, []

    def clerk_acts_meanwhile(claim_read, fields):
        if not raced:  # between the seguito's reading and its writing
            raced.append(apply_many("drop", [claim_read.id], manager, reason="duplicate"))
        return original(claim_read, fields)
    monkeypatch.setattr(intake, "keep_hand_set", clerk_acts_meanwhile)
    response = post(client, _seguito(first, estimate_amount="1800.00"))
    assert response.status_code == 200, response.json
    assert raced[0].succeeded == [claim.number]
    saved = Claim.get_by_id(claim.id)
    assert saved.status == ClaimStatus.DROPPED and str(saved.estimate_amount) == "1800.00"  # both changes stand
    assert [a.kind for a in Attachment.select().where(Attachment.claim == claim).order_by(Attachment.id)] == \
        ["denuncia", "foto", "mandato"]
    assert StatusChange.select().where(StatusChange.claim == claim, StatusChange.event == "seguito").count() == 1
    assert len(stored_files(app)) == 3


def test_a_seguito_on_a_claim_that_keeps_changing_is_503_with_retry_after(client, shop, app, monkeypatch):
    centre, _repairer = shop
    claim, first = _opened(client, centre)
    original = intake.keep_hand_set

    def someone_always_first(claim_read, fields):
        Claim.update(version=Claim.version + 1).where(Claim.id == claim_read.id).execute()
        return original(claim_read, fields)
    monkeypatch.setattr(intake, "keep_hand_set", someone_always_first)
    response = post(client, _seguito(first, estimate_amount="1800.00"))
    assert response.status_code == 503, response.json
    assert _retry_after(response) == RETRY_AFTER_SECONDS and "ricarica" not in response.json["detail"]
    assert str(Claim.get_by_id(claim.id).estimate_amount) == "1520.40"
    assert len(stored_files(app)) == 2  # the seguito's document did not stay
