"""What the benchmark scripts share: a PostgreSQL database of their own, safe to wipe."""
from __future__ import annotations

import re
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
