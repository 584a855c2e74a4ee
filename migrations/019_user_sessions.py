"""Peewee migrations -- 019_user_sessions.py: one row per device a user is logged in on.

A session's cookies carried the user's token alone, so leaving Gessin on one device ended
every device. They now carry `<user token>.<device token>`, the device's a row of
`user_session`: leaving deletes that row only. The sessions open before this migration
carried no device, and end: their users log in again once.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class UserSession(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        token = pw.CharField(max_length=64, unique=True)

        class Meta:
            table_name = "user_session"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('user_session')
