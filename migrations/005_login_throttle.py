"""Peewee migrations -- 005_login_throttle.py: staff login attempts
and the WinCar failure look-up per (UserID, address)."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class LoginAttempt(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        login = pw.CharField(max_length=64)
        address = pw.CharField(max_length=64, null=True)
        success = pw.BooleanField()

        class Meta:
            table_name = "login_attempt"
            indexes = [(('login', 'created_at'), False), (('address', 'created_at'), False),
                       (('login', 'address', 'success'), False)]

    # WinCar failures are no longer counted per address alone (one client behind a proxy
    # locked every repairer out); "succeeded from this address" is looked up instead.
    migrator.sql('DROP INDEX IF EXISTS "intake_event_failed_by_address"')
    migrator.sql('CREATE INDEX "intake_event_accepted_by_user_address" ON "intake_event" '
                 '("wincar_user", "remote_addr") WHERE "http_status" < 400')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.sql('DROP INDEX IF EXISTS "intake_event_accepted_by_user_address"')
    migrator.sql('CREATE INDEX "intake_event_failed_by_address" ON "intake_event" ("remote_addr", "received_at") '
                 'WHERE "http_status" = 401')
    migrator.remove_model('login_attempt')
