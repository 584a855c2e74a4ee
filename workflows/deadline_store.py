"""Writing the next deadlines of many claims and their reminder days, in the transaction of
the change that moved them (`workflows.next_due` computes them).

The claim keeps `next_due_on`, `next_due_kind` and `next_warn_on` (`DEADLINE`); the day of
its next reminder (`REMIND` among the values) is a `ReminderDue` row. The SQL of the batch
writes is written here rather than by peewee, which builds a CASE of thousands of branches
node by node more slowly than the database runs it (as `models.insert_rows`).
"""
from __future__ import annotations

from models import Claim, db, is_postgres

BATCH = 1000
DEADLINE = ("next_due_on", "next_due_kind", "next_warn_on")  # the claim's columns
REMIND = "remind_on"  # the reminder's day among the values (a `ReminderDue` row, not a claim column)


def reminder_of(values: dict) -> tuple | None:
    """The `ReminderDue` of next-deadline values: (day, due, warn), or None for no reminder."""
    day = values.get(REMIND)
    return None if day is None or values.get("next_due_on") is None \
        else (day, values["next_due_on"], values.get("next_warn_on"))


def schedule_after(claim_id: int, values: dict) -> None:
    """One claim's reminder day after its UPDATE, in its transaction (nothing if unchanged)."""
    if REMIND in values:
        schedule_reminders({claim_id: reminder_of(values)})


def _ids_clause(column: str, ids: list[int]) -> tuple[str, list]:
    if is_postgres():
        return f'"{column}" = ANY({db.param})', [list(ids)]
    return f'"{column}" IN ({", ".join([db.param] * len(ids))})', list(ids)


UPSERT = ('ON CONFLICT ("claim_id") DO UPDATE SET "remind_on" = EXCLUDED."remind_on", '
          '"due_on" = EXCLUDED."due_on", "warn_on" = EXCLUDED."warn_on"')


def _schedule_alike(claim_ids: list[int], reminder: tuple) -> None:
    """The same reminder day for all `claim_ids`: one INSERT ... SELECT of their rows."""
    day, due, warn = reminder
    where, params = _ids_clause("id", claim_ids)
    db.execute_sql('INSERT INTO "reminder_due" ("claim_id", "remind_on", "due_on", "warn_on") '
                   f'SELECT "id", {db.param}, {db.param}, {db.param} FROM "claim" WHERE {where} {UPSERT}',
                   [day.isoformat(), due.isoformat(), warn.isoformat() if warn else None] + params)


def schedule_reminders(reminders: dict[int, tuple | None], chunk: int = 500) -> None:
    """Write the reminder days of many claims (claim id -> `reminder_of` values, None for
    none): one INSERT ... ON CONFLICT DO UPDATE per `chunk` set, one DELETE per `chunk`
    cleared. Call it in the transaction that writes the claims' next deadline."""
    p = db.param
    upserts = [(claim_id, r) for claim_id, r in reminders.items() if r is not None]
    cleared = [claim_id for claim_id, r in reminders.items() if r is None]
    one = f"({p}, {p}, {p}, {p})"
    for start in range(0, len(upserts), chunk):
        part = upserts[start:start + chunk]
        if len({r for _, r in part}) == 1:  # one day for all (a bulk action): built by the database
            _schedule_alike([claim_id for claim_id, _ in part], part[0][1])
            continue
        params = [v for claim_id, (day, due, warn) in part
                  for v in (claim_id, day.isoformat(), due.isoformat(), warn.isoformat() if warn else None)]
        db.execute_sql('INSERT INTO "reminder_due" ("claim_id", "remind_on", "due_on", "warn_on") '
                       f'VALUES {", ".join([one] * len(part))} {UPSERT}', params)
    for start in range(0, len(cleared), chunk):
        where, params = _ids_clause("claim_id", cleared[start:start + chunk])
        db.execute_sql(f'DELETE FROM "reminder_due" WHERE {where}', params)


def set_clauses(part: list[tuple[int, dict]]) -> tuple[list[str], list]:
    """The SET clauses writing the next-deadline columns of `part` [(claim id, values)], and
    their parameters: a column with one value for all is set to it, else a CASE on the id."""
    p, sets, params = db.param, [], []
    names = [name for name in DEADLINE if part and name in part[0][1]]  # every item has the same columns
    for name in names:
        field = getattr(Claim, name)
        column = [field.db_value(values[name]) for _, values in part]
        if len(set(column)) == 1:  # one value for all (PostgreSQL types a CASE of NULLs as text)
            sets.append(f'"{field.column_name}" = {p}')
            params.append(column[0])
            continue
        sets.append(f'"{field.column_name}" = CASE "id" ' + " ".join([f"WHEN {p} THEN {p}"] * len(part)) + " END")
        params += [v for (claim_id, _), value in zip(part, column) for v in (claim_id, value)]
    return sets, params


def store(values_by_id: dict[int, dict], versions: dict[int, int] | None = None, chunk: int = BATCH) -> int:
    """Write the next-deadline columns of many claims: one UPDATE ... CASE per `chunk` claims,
    then the reminder days of those that carry one (`schedule_reminders`); call it in a transaction.

    With `versions` (claim id -> the version the values were computed from), a claim
    changed since is left alone: its own change wrote its next deadline. The SQL text is
    written here rather than by peewee, which builds a CASE of thousands of branches node
    by node more slowly than the database runs it (as `models.insert_rows`).
    """
    items, done, p = list(values_by_id.items()), [], db.param
    for start in range(0, len(items), chunk):
        part = items[start:start + chunk]
        sets, params = set_clauses(part)
        ids = [claim_id for claim_id, _ in part]
        where, params = f'"id" IN ({", ".join([p] * len(part))})', params + ids
        if versions is not None:
            where += f' AND ("id", "version") IN ({", ".join([f"({p}, {p})"] * len(part))})'
            params += [v for claim_id in ids for v in (claim_id, versions[claim_id])]
        done += [row[0] for row in db.execute_sql(f'UPDATE "claim" SET {", ".join(sets)} WHERE {where} '
                                                  'RETURNING "id"', params).fetchall()]
    schedule_reminders({claim_id: reminder_of(values_by_id[claim_id]) for claim_id in done
                        if REMIND in values_by_id[claim_id]})
    return len(done)
