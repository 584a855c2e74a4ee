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

    def save(self, force_insert: bool = False, only=None):
        """peewee's save, with the INSERT of a new row written from a cached statement.

        peewee builds the SQL of every INSERT node by node; for a claim's 65 columns
        that costs more than the database round trip, and the WinCar intake inserts
        six rows per claim. The text only depends on the model, the columns given and
        the database, so it is built once (by peewee itself) and reused; the values
        still go through each field's `db_value`. Anything unusual (an expression as a
        value, a default left out, no auto-increment key) takes peewee's own path.
        """
        if only is None and (force_insert or self._pk is None):
            key = _InsertStatement.key(self)
            if key is not None:
                self._populate_unsaved_relations(self.__data__)
                self._pk = _InsertStatement.get(key).execute(self.__data__)
                self._dirty.clear()
                return 1
        return super().save(force_insert=force_insert, only=only)


def insert_rows(model, fields, rows, chunk: int = 500) -> list[int]:
    """Multi-row INSERT ... RETURNING id, in chunks; returns the new ids.

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
        ids += [row[0] for row in db.execute_sql(sql, params).fetchall()]
    return ids


class _InsertStatement:
    """The SQL text of a one-row INSERT of some columns of a model, and how to run it."""

    _cache: dict[tuple, "_InsertStatement"] = {}

    def __init__(self, model: type[pw.Model], names: tuple[str, ...]):
        fields = model._meta.fields
        self.fields = [fields[name] for name in names]
        query = model.insert_many([[None] * len(names)], fields=self.fields)
        self.sql, _ = query.sql()
        self.returning = bool(query._returning)

    @classmethod
    def key(cls, instance: pw.Model) -> tuple | None:
        meta, data = instance._meta, instance.__data__
        if not meta.auto_increment or meta.composite_key or data.get(meta.primary_key.name) is not None:
            return None
        names = tuple(name for name in data if name != meta.primary_key.name)
        if not names or any(isinstance(data[name], pw.Node) for name in names) or not meta.defaults.keys() <= {
                meta.fields[name] for name in names}:
            return None
        return type(instance), names, type(db.obj)

    @classmethod
    def get(cls, key: tuple) -> "_InsertStatement":
        statement = cls._cache.get(key)
        if statement is None:
            statement = cls._cache[key] = cls(key[0], key[1])
        return statement

    def execute(self, data: dict):
        cursor = db.execute_sql(self.sql, [field.db_value(data[field.name]) for field in self.fields])
        return cursor.fetchone()[0] if self.returning else db.last_insert_id(cursor)


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
