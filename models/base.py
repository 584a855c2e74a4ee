"""The database handle and the base model every table shares.

`db` is a proxy bound once by `bind_database`, so models can be imported
before the application knows which database it talks to.
"""
from __future__ import annotations

import datetime as dt

import peewee as pw
from playhouse.db_url import connect

db = pw.DatabaseProxy()


def utcnow() -> dt.datetime:
    """Naive UTC timestamp: the same on SQLite and PostgreSQL."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class BaseModel(pw.Model):
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        database = db
        legacy_table_names = False


def bind_database(url: str) -> pw.Database:
    """Connect `db` to the database at `url` (sqlite:///path or postgresql://...)."""
    if url.startswith("sqlite"):
        database = connect(
            url,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": 10000,
                "synchronous": "normal",
            },
        )
    else:
        database = connect(url)
    db.initialize(database)
    return database


def is_postgres() -> bool:
    return isinstance(db.obj, pw.PostgresqlDatabase)


class MoneyField(pw.DecimalField):
    """Euro amounts: Decimal with two places on every backend.

    SQLite keeps DECIMAL columns with numeric affinity, so 1520.40 reads back as
    1520.4; quantizing on the way out gives the same value PostgreSQL returns.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("auto_round", True)
        super().__init__(*args, **kwargs)

    def python_value(self, value):
        value = super().python_value(value)
        return value.quantize(self._exp) if value is not None else None
