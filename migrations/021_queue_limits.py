"""Peewee migrations -- 021_queue_limits.py: queue limits only for open states,
and counted in working days when the call centre chooses so.

A limit on a final state (Rimborsato chiuso, Chiuso, Senza seguito, Annullata) put a
deadline on every file in it, which nothing took away again: such limits are deleted, and
every claim in a final state loses the next deadline it stores (`next_due_on`,
`next_due_kind`, `next_warn_on`) and its pending reminder (`reminder_due`). A closed file
has no next deadline. The rollback drops the new column only: the deleted limits and
deadlines were wrong and do not come back.
"""

import peewee as pw
from peewee_migrate import Migrator

# The final states as this migration knows them (models.ClaimStatus.FINAL today).
FINAL = ('reimbursed', 'closed', 'dropped', 'cancelled')


def _in_final(database: pw.Database) -> tuple[str, tuple]:
    return f'"status" IN ({", ".join([database.param] * len(FINAL))})', FINAL


def _clear_final(database: pw.Database) -> None:
    final, params = _in_final(database)
    database.execute_sql(f'DELETE FROM "queue_limit" WHERE {final}', params)
    database.execute_sql(f'DELETE FROM "reminder_due" WHERE "claim_id" IN (SELECT "id" FROM "claim" WHERE {final})',
                         params)
    database.execute_sql('UPDATE "claim" SET "next_due_on" = NULL, "next_due_kind" = NULL, "next_warn_on" = NULL '
                         f'WHERE {final} AND ("next_due_on" IS NOT NULL OR "next_due_kind" IS NOT NULL '
                         'OR "next_warn_on" IS NOT NULL)', params)


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    # A database default: limits written by SQL that does not name it (009's seed) count calendar days.
    migrator.add_fields('queue_limit',
                        working_days=pw.BooleanField(default=False, constraints=[pw.SQL("DEFAULT FALSE")]))
    migrator.run(_clear_final, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('queue_limit', 'working_days')
