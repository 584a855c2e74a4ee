"""Peewee migrations -- 015_reminder_due.py: the day of a claim's next reminder in a table of
its own (`reminder_due`), no longer a column of `claim`.

Moving an indexed column of `claim` made PostgreSQL write a new entry in each of the
claim's indexes for every claim the sweep reminded; the narrow table has two. Its rows
are the claims with a reminder pending, copied from `claim.remind_on`; the rollback
copies them back.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class ReminderDue(pw.Model):
        claim = pw.ForeignKeyField(column_name='claim_id', field='id', model=migrator.orm['claim'],
                                   on_delete='CASCADE', primary_key=True)
        remind_on = pw.DateField(null=True, index=True)
        due_on = pw.DateField()
        warn_on = pw.DateField(null=True)

        class Meta:
            table_name = "reminder_due"

    migrator.sql('INSERT INTO "reminder_due" ("claim_id", "remind_on", "due_on", "warn_on") '
                 'SELECT "id", "remind_on", "next_due_on", "next_warn_on" FROM "claim" '
                 'WHERE "remind_on" IS NOT NULL AND "next_due_on" IS NOT NULL')
    migrator.drop_index('claim', 'remind_on')
    migrator.remove_fields('claim', 'remind_on')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields('claim', remind_on=pw.DateField(null=True, index=True))
    migrator.sql('UPDATE "claim" SET "remind_on" = (SELECT d."remind_on" FROM "reminder_due" AS d '
                 'WHERE d."claim_id" = "claim"."id") '
                 'WHERE "id" IN (SELECT "claim_id" FROM "reminder_due")')
    migrator.remove_model('reminder_due')
