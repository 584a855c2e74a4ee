"""Peewee migrations -- 008_bulk_job_lease.py: a bulk job's lease, so a job whose worker died is resumed.

`owner` names the worker running the job and `lease_until` is how long its hold lasts
(renewed at each batch and by a heartbeat); `interruptions` counts the times the job was
taken over from a worker that had stopped.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'bulk_job',
        owner=pw.CharField(max_length=100, null=True),
        lease_until=pw.DateTimeField(null=True),
        interruptions=pw.IntegerField(default=0))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('bulk_job', 'owner', 'lease_until', 'interruptions')
