"""The database handle and the base model every table shares.

`db` is a proxy bound once by `bind_database`, so models can be imported
before the application knows which database it talks to.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse

import peewee as pw
from flask_babel import lazy_gettext as _l
from playhouse.db_url import parseresult_to_dict

from . import connections

db = pw.DatabaseProxy()


def utcnow() -> dt.datetime:
    """Naive UTC timestamp: the same on SQLite and PostgreSQL."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


# Ids are PostgreSQL `integer` (32-bit) columns: a larger number names no row, and
# sending it to the database would be an error rather than "not found".
MAX_ID = 2**31 - 1


def parse_id(value) -> int | None:
    """A row id read from a request (`"42"`), or None if it cannot name a row."""
    if isinstance(value, (bool, float)):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isascii() or not value.isdigit() or len(value) > len(str(MAX_ID)):
            return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= MAX_ID else None


class BaseModel(pw.Model):
    created_at = pw.DateTimeField(default=utcnow, verbose_name=_l("Creato il"))

    class Meta:
        database = db
        legacy_table_names = False


def insert_rows(model, fields, rows, chunk: int = 500) -> list[int]:
    """Multi-row INSERT ... RETURNING id, in chunks; returns the new ids, in the order of `rows`
    (each row of a statement gets a larger id than the one before, whatever order RETURNING lists them in).

    Written as one placeholder string per chunk because, for thousands of rows,
    peewee's value-by-value SQL building costs more than the database itself.
    Every NOT NULL column must be among `fields`: peewee's Python defaults do not apply here.
    """
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    row_sql = "(" + ", ".join([db.param] * len(fields)) + ")"
    ids = []
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        sql = (f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES {", ".join([row_sql] * len(part))} '
               f'RETURNING "id"')
        params = [f.db_value(v) for row in part for f, v in zip(fields, row)]
        ids += sorted(row[0] for row in db.execute_sql(sql, params).fetchall())
    return ids


_BUILT: dict[tuple, object] = {}  # (key, kind of database) -> what built_once made


def built_once(key, build):
    """What `build()` makes of a statement whose text depends only on `key` and the kind of
    database (peewee's own `sql()` of it, with its public calls): made at the first call, then
    reused, so each use only binds the values."""
    full_key = (key, type(db.obj))
    made = _BUILT.get(full_key)
    if made is None:
        made = _BUILT[full_key] = build()
    return made


class _PreparedInsert:
    """The text of a one-row INSERT of every column of a model but its key, RETURNING the key
    (`insert_many(...).returning(...).sql()`), built once per model and database kind."""

    def __init__(self, model: type[pw.Model]):
        meta = model._meta
        self.fields = [field for field in meta.sorted_fields if field is not meta.primary_key]
        self.names = [field.object_id_name if isinstance(field, pw.ForeignKeyField) else field.name
                      for field in self.fields]
        query = model.insert_many([[None] * len(self.fields)], fields=self.fields).returning(meta.primary_key)
        self.sql, _ = query.sql()

    @classmethod
    def of(cls, model: type[pw.Model]) -> "_PreparedInsert":
        return built_once(("insert", model), lambda: cls(model))


def insert_row(instance: pw.Model) -> int:
    """Save the new `instance` in one INSERT of all its columns; sets and returns its id.

    For the rows the WinCar intake writes on every claim (the claim's 70 columns first):
    peewee's `save()` builds the SQL of each INSERT node by node, which costs more than
    the database's round trip; the text depends only on the model, so it is built once.
    Defaults apply as in `save()` (peewee sets them when the instance is created); the
    values go through each field's `db_value`. No validation runs: the caller's job.
    """
    statement = _PreparedInsert.of(type(instance))
    params = [field.db_value(getattr(instance, name)) for field, name in zip(statement.fields, statement.names)]
    new_id = db.execute_sql(statement.sql, params).fetchone()[0]
    setattr(instance, type(instance)._meta.primary_key.name, new_id)
    return new_id


def bind_database(url: str) -> pw.Database:
    """Connect `db` to the database at `url` (sqlite:///path or postgresql://...).

    The classes are Gessin's own (`models/connections.py`): SQLite transactions begin
    IMMEDIATE, and a connection found dropped at the start of a request is replaced.
    """
    parsed = urlparse(url)
    database_class = connections.SCHEMES.get(parsed.scheme)
    if database_class is None:
        raise RuntimeError(f"unsupported database URL scheme: {parsed.scheme!r}")
    params = parseresult_to_dict(parsed)
    if database_class is connections.SqliteDatabase:
        params["pragmas"] = connections.SQLITE_PRAGMAS
    database = database_class(**params)
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
