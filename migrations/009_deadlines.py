"""Peewee migrations -- 009_deadlines.py: what the legal terms need, recorded on the claim;
the claim's next deadline; prescription interruptions; default queue limits.

Existing claims get their next deadline from the sweep (`workflows.next_due.recompute_all`,
also `flask --app app recompute-deadlines`), not here: the rule is the workflow's.
"""

import datetime as dt

import peewee as pw
from peewee_migrate import Migrator

# Existing date columns the deadlines read, now indexed (the new ones are created with their index).
INDEXED = ('claim_filed_on', 'offer_answered_on', 'prescription_interrupted_on')

# (state, warning after, limit) in days: what the call centre starts from and then edits.
# Filed has none: the insurer's legal term governs it.
DEFAULT_LIMITS = (('received', 1, 2), ('incomplete', 10, 15), ('validated', 1, 2), ('assigned', 7, 10))


def _seed_limits(database: pw.Database) -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    for status, warning, breach in DEFAULT_LIMITS:
        exists = database.execute_sql(f'SELECT 1 FROM "queue_limit" WHERE "status" = {database.param}',
                                      (status,)).fetchone()
        if not exists:
            database.execute_sql(
                'INSERT INTO "queue_limit" ("created_at", "status", "warning_days", "breach_days") '
                f'VALUES ({database.param}, {database.param}, {database.param}, {database.param})',
                (now, status, warning, breach))


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'claim',
        procedure=pw.CharField(max_length=10, null=True),
        missing_requested_on=pw.DateField(null=True, index=True),
        missing_requested_items=pw.TextField(null=True),
        missing_sent_on=pw.DateField(null=True, index=True),
        offer_received_on=pw.DateField(null=True, index=True),
        offer_answer=pw.CharField(max_length=10, null=True),
        next_due_on=pw.DateField(null=True, index=True),
        next_due_kind=pw.CharField(max_length=16, null=True, index=True),
        next_warn_on=pw.DateField(null=True, index=True))
    for column in INDEXED:
        migrator.add_index('claim', column, unique=False)

    @migrator.create_model
    class PrescriptionInterruption(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        claim = pw.ForeignKeyField(column_name='claim_id', field='id', model=migrator.orm['claim'],
                                   on_delete='CASCADE')
        on_date = pw.DateField()
        means = pw.CharField(max_length=16, null=True)
        note = pw.TextField(null=True)
        recorded_by = pw.ForeignKeyField(column_name='recorded_by_id', field='id', model=migrator.orm['user'],
                                         null=True, on_delete='SET NULL')

        class Meta:
            table_name = "prescription_interruption"
            indexes = [(('claim', 'on_date'), False)]

    # An interruption already typed in the claim form becomes the file's first row.
    migrator.sql('INSERT INTO "prescription_interruption" ("created_at", "claim_id", "on_date", "means", "note") '
                 'SELECT CURRENT_TIMESTAMP, "id", "prescription_interrupted_on", NULL, '
                 '\'Data registrata prima dello storico delle interruzioni\' FROM "claim" '
                 'WHERE "prescription_interrupted_on" IS NOT NULL')
    # The first offer of a claim filed before this migration.
    migrator.sql('UPDATE "claim" SET "offer_received_on" = (SELECT MIN("on_date") FROM "payment" '
                 'WHERE "payment"."claim_id" = "claim"."id" AND "payment"."kind" = \'offer\')')
    migrator.run(_seed_limits, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('prescription_interruption')
    for column in ('missing_requested_on', 'missing_sent_on', 'offer_received_on', 'next_due_on', 'next_due_kind',
                   'next_warn_on'):
        migrator.drop_index('claim', column)
    for column in INDEXED:
        migrator.drop_index('claim', column)
    migrator.remove_fields('claim', 'procedure', 'missing_requested_on', 'missing_requested_items',
                           'missing_sent_on', 'offer_received_on', 'offer_answer', 'next_due_on', 'next_due_kind',
                           'next_warn_on')
