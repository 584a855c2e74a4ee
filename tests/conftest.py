"""Fixtures: a real database (SQLite file, or PostgreSQL when DATABASE_URL says so),
migrated once per session and emptied after each test."""
from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

if "GESSIN_INSTANCE" not in os.environ:  # the session's own instance folder, removed at the end
    os.environ["GESSIN_INSTANCE"] = tempfile.mkdtemp(prefix="gessin-instance-")
    atexit.register(shutil.rmtree, os.environ["GESSIN_INSTANCE"], ignore_errors=True)

import models  # noqa: E402
from models import ALL_MODELS, db  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from admin_views import kept, list_rows  # noqa: E402

from . import factories  # noqa: E402

OUTPUT_DIR = Path(__file__).resolve().parent.parent / "test-output"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("DATABASE_URL")
    if url:
        models.bind_database(url)
        if models.is_postgres():
            db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        else:
            for table in reversed(db.get_tables()):
                db.execute_sql(f'DROP TABLE "{table}"')
        db.close()
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'gessin-test.db'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    from app import create_app

    application = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "STORAGE_DIR": str(tmp_path_factory.mktemp("storage")),
        "MAIL_SERVER": None,
        "PUBLIC_URL": "http://127.0.0.1",
        "MENU_COUNTS_SECONDS": 0,  # counted on every page: tests/test_admin_queues.py tests the keeping
        "CHOICES_SECONDS": 0,  # drop-downs read on every page: tests/test_admin_kept.py tests the keeping
    })
    with application.app_context():
        upgrade()
    db.close()
    return application


@pytest.fixture(autouse=True)
def _empty_database(request):
    yield
    kept.forget()  # a user id of this test is another user's in the next
    list_rows.forget_cells()  # a test may draw a column its own way
    if "app" not in request.fixturenames:
        return
    db.connect(reuse_if_open=True)
    tables = [m._meta.table_name for m in ALL_MODELS]
    if models.is_postgres():
        db.execute_sql("TRUNCATE {} RESTART IDENTITY CASCADE".format(", ".join(f'"{t}"' for t in tables)))
    else:
        with db.atomic():
            for table in reversed(tables):
                db.execute_sql(f'DELETE FROM "{table}"')
    db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def f(app):
    """The row builders, with the database bound."""
    db.connect(reuse_if_open=True)
    return factories


def csrf_token(client, path="/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, user, password=factories.PASSWORD):
    if client.get("/login").status_code == 302:  # someone is logged in on this client: log out first
        client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    response = client.post("/login", data={"login": user.login, "password": password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


class QueryCounter(logging.Handler):
    """Counts the SQL statements peewee runs in this thread while active (a worker's
    heartbeat thread, tasks/workers.py, writes its own now and then)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []
        self._thread = threading.get_ident()

    def emit(self, record):
        if record.thread == self._thread:
            self.statements.append(str(record.msg))

    def __enter__(self):
        logger = logging.getLogger("peewee")
        self._level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self)
        return self

    def __exit__(self, *exc):
        logger = logging.getLogger("peewee")
        logger.removeHandler(self)
        logger.setLevel(self._level)

    @property
    def count(self):
        return len(self.statements)
