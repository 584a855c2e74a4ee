"""Peewee migrations -- 005_login_throttle.py: staff login attempts, per-user session tokens,
and the WinCar failure look-up per (UserID, address)."""

import secrets

import peewee as pw
from peewee_migrate import Migrator


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _give_every_user_a_token(database: pw.Database) -> None:
    for (user_id,) in database.execute_sql('SELECT "id" FROM "user"').fetchall():
        database.execute_sql(f'UPDATE "user" SET "session_token" = {database.param} WHERE "id" = {database.param}',
                             (_new_token(), user_id))


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    # Existing users get a random token each: every session open before the upgrade ends.
    # (The column's default is one value for every row; each then gets its own before the
    # field becomes unique.)
    migrator.add_fields('user', session_token=pw.CharField(max_length=64, default=_new_token))
    migrator.run(_give_every_user_a_token, database)
    migrator.change_fields('user', session_token=pw.CharField(max_length=64, unique=True))

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
    migrator.remove_fields('user', 'session_token')
