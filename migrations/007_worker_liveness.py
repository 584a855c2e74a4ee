"""Peewee migrations -- 007_worker_liveness.py: consumers' heartbeats; outbox locks name their worker.

A lock held by a worker that no longer exists is free at once (tasks/workers.py), not
after `locked_until`; the outbox row records "being sent" before SMTP DATA, the
server's reply after, and whether the message may have gone out twice.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class Worker(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        name = pw.CharField(max_length=64, unique=True)
        host = pw.CharField(max_length=255)
        pid = pw.IntegerField()
        heartbeat_at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "worker"

    migrator.add_fields(
        'outbound_email',
        locked_by=pw.CharField(max_length=64, null=True),
        sending_at=pw.DateTimeField(null=True),
        smtp_reply=pw.TextField(null=True),
        # A database default: the outbox is written by a multi-row INSERT naming its columns.
        possible_duplicate=pw.BooleanField(default=False, constraints=[pw.SQL("DEFAULT FALSE")]))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('outbound_email', 'locked_by', 'sending_at', 'smtp_reply', 'possible_duplicate')
    migrator.remove_model('worker')
