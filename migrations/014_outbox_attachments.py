"""Peewee migrations -- 014_outbox_attachments.py: files an outbox e-mail carries, as
references to storage read when the message is sent."""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class OutboundAttachment(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        email = pw.ForeignKeyField(column_name='email_id', field='id', model=migrator.orm['outbound_email'],
                                   on_delete='CASCADE')
        position = pw.SmallIntegerField(default=0)
        filename = pw.CharField(max_length=255)
        content_type = pw.CharField(max_length=100)
        stored_name = pw.CharField(max_length=255)
        size = pw.IntegerField()
        sha256 = pw.CharField(max_length=64)

        class Meta:
            table_name = "outbound_attachment"
            indexes = [(('email', 'position'), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('outbound_attachment')
