"""Peewee migrations -- 012_reminders.py: deadline reminders, sent once, in daily digests.

`claim.remind_on` is the day the next reminder of the claim's next deadline falls due
(its warning day): the sweep reads the claims whose day has come by that index alone.
Open claims with a next deadline start from their warning day, so a claim already past
it is reminded at the first sweep.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields('claim', remind_on=pw.DateField(null=True, index=True))

    @migrator.create_model
    class ReminderDigest(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        recipient = pw.CharField(max_length=40)
        day = pw.DateField()
        reminders = pw.IntegerField(default=0)
        email = pw.ForeignKeyField(column_name='email_id', field='id', model=migrator.orm['outbound_email'],
                                   null=True, on_delete='SET NULL')

        class Meta:
            table_name = "reminder_digest"
            indexes = [(('recipient', 'day'), True)]

    @migrator.create_model
    class DeadlineReminder(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        claim = pw.ForeignKeyField(column_name='claim_id', field='id', model=migrator.orm['claim'],
                                   on_delete='CASCADE', index=False)
        kind = pw.CharField(max_length=16)
        due_on = pw.DateField()
        level = pw.CharField(max_length=10)
        recipient = pw.CharField(max_length=40)
        found_on = pw.DateField(index=True)
        digest = pw.ForeignKeyField(column_name='digest_id', field='id', model=ReminderDigest, null=True,
                                    on_delete='SET NULL')

        class Meta:
            table_name = "deadline_reminder"
            indexes = [(('claim', 'kind', 'due_on', 'level', 'recipient'), True)]

    migrator.sql('CREATE INDEX "deadline_reminder_recipient" ON "deadline_reminder" ("recipient") '
                 'WHERE "digest_id" IS NULL')
    migrator.sql('UPDATE "claim" SET "remind_on" = "next_warn_on" WHERE "next_due_on" IS NOT NULL')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DROP INDEX IF EXISTS "deadline_reminder_recipient"')
    migrator.remove_model('deadline_reminder')
    migrator.remove_model('reminder_digest')
    migrator.drop_index('claim', 'remind_on')
    migrator.remove_fields('claim', 'remind_on')
