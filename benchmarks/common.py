"""What the benchmark scripts share: a PostgreSQL database of their own, safe to wipe."""
from __future__ import annotations

import logging
import re
import shutil
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg2


def shown(url: str) -> str:
    """`url` without its password, for printing."""
    return re.sub(r"(//[^/:@]*):[^/@]*@", r"\1:***@", url)


def libpq_url(url: str) -> str:
    """The URL for psycopg2: a pooled URL of peewee (postgresql+pool://...?max_connections=8),
    which the app accepts in DATABASE_URL, without the pool's scheme and options."""
    parts = urlsplit(url)
    if parts.scheme.endswith("+pool"):
        parts = parts._replace(scheme=parts.scheme.removesuffix("+pool"), query="")
    return urlunsplit(parts)


def prepare_postgres(url: str) -> None:
    """Create the benchmark database if missing; refuse any database not meant for it."""
    parts = urlsplit(libpq_url(url))
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"error: refusing to wipe PostgreSQL database {name!r}: its name must contain 'bench'")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        conn = psycopg2.connect(admin_url, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        sys.exit(f"error: PostgreSQL not reachable at {shown(admin_url)}: {str(exc).strip()}")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def backends(args, work_dir) -> list[tuple[str, str]]:
    """(name, URL) of each database `--backend` asks for; PostgreSQL is checked at once,
    before any long work, so an unreachable server fails fast."""
    chosen = []
    if args.backend in ("sqlite", "both"):
        chosen.append(("sqlite", f"sqlite:///{work_dir / 'bench.db'}"))
    if args.backend in ("postgres", "both"):
        prepare_postgres(args.pg_url)
        chosen.append(("postgres", args.pg_url))
    return chosen


def print_verdicts(verdicts: list[tuple[str, list[str]]]) -> int:
    """The closing lines, OK or OVER TARGET per backend; over target is not an error."""
    print()
    for name, over in verdicts:
        print(f"{name}: {'OVER TARGET (' + '; '.join(over) + ')' if over else 'OK'}")
    return 0


def run_main(run, args, work_dir) -> int:
    """`run(args)`, an error reported as exit status 1, the temp directory removed unless --keep."""
    try:
        return run(args)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work_dir, ignore_errors=True)


def benchmark_app(url: str, work_dir, quiet=("gessin", "peewee_migrate")):
    """The application on an empty, migrated database at `url` (PostgreSQL: its `public`
    schema dropped and made again; SQLite: a new file), its chatty loggers quietened.

    Imported late: a benchmark sets `GESSIN_INSTANCE` and the task queue before the app is imported."""
    import logging

    from app import create_app
    from models import db, is_postgres
    from models.migrate import upgrade
    app = create_app({"DATABASE_URL": url, "STORAGE_DIR": str(work_dir / "storage"), "SECRET_KEY": "benchmark-secret",
                      "TESTING": True, "MAIL_SERVER": None})
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    with app.app_context(), db.connection_context():
        if is_postgres():
            db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        upgrade()
    return app


class QueryCounter(logging.Handler):
    """Collects the SQL statements peewee runs while active (as tests/conftest.QueryCounter)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements: list = []

    def emit(self, record):
        if isinstance(record.msg, tuple):  # (sql, params); not the pool's own messages ("Returning ... to pool")
            self.statements.append(record.msg)

    def __enter__(self):
        logger = logging.getLogger("peewee")
        self._saved = logger.level, logger.propagate
        logger.setLevel(logging.DEBUG)
        logger.propagate = False  # keep the SQL off the console
        logger.addHandler(self)
        return self

    def __exit__(self, *exc):
        logger = logging.getLogger("peewee")
        logger.removeHandler(self)
        level, logger.propagate = self._saved
        logger.setLevel(level)  # setLevel, not .level =: it clears the isEnabledFor cache

    @property
    def count(self) -> int:
        return len(self.statements)
