"""Peewee migrations -- 003_intake.py: duplicate warnings and the intake log's look-ups."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'claim',
        possible_duplicates=pw.CharField(max_length=300, null=True),
        injured_driver_a_only=pw.BooleanField(null=True),
        passengers_injured=pw.BooleanField(null=True),
        disability_pct=pw.DecimalField(max_digits=4, decimal_places=1, null=True))
    migrator.change_fields('intake_event', wincar_user=pw.CharField(max_length=64, null=True))
    migrator.sql('DROP INDEX IF EXISTS intakeevent_wincar_user')  # replaced by (wincar_user, received_at)
    migrator.sql('CREATE INDEX "intake_event_failed_by_user" ON "intake_event" ("wincar_user", "received_at") '
                 'WHERE "http_status" = 401')
    migrator.sql('CREATE INDEX "intake_event_failed_by_address" ON "intake_event" ("remote_addr", "received_at") '
                 'WHERE "http_status" = 401')
    migrator.add_index('intake_event', 'wincar_user', 'idempotency_key', unique=False)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index('intake_event', 'wincar_user', 'idempotency_key')
    migrator.sql('DROP INDEX IF EXISTS "intake_event_failed_by_address"')
    migrator.sql('DROP INDEX IF EXISTS "intake_event_failed_by_user"')
    migrator.change_fields('intake_event', wincar_user=pw.CharField(max_length=64, null=True, index=True))
    migrator.remove_fields('claim', 'possible_duplicates', 'injured_driver_a_only', 'passengers_injured',
                           'disability_pct')
