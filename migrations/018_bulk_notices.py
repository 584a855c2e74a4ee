"""Peewee migrations -- 018_bulk_notices.py: the claims a bulk job changed, kept until it ends.

`bulk_notice` holds, for each claim a running job changed, its state, parties and note
after the change. When the job ends (done, failed or given up) each party is told once
of all its claims, and the job's rows go (`workflows/bulk_notices.py`). The parties are
plain ids, not foreign keys: a party removed meanwhile is not told, its claims still are
to the others.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class BulkNotice(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        job = pw.ForeignKeyField(column_name='job_id', field='id', model=migrator.orm['bulk_job'], on_delete='CASCADE',
                                 index=False)  # the unique (job, claim) index finds a job's rows
        claim = pw.ForeignKeyField(column_name='claim_id', field='id', model=migrator.orm['claim'], on_delete='CASCADE')
        status = pw.CharField(max_length=24)
        repairer_id = pw.IntegerField()
        asp_centre_id = pw.IntegerField()
        lawyer_id = pw.IntegerField(null=True)
        note = pw.TextField(null=True)

        class Meta:
            table_name = "bulk_notice"
            indexes = [(('job', 'claim'), True)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('bulk_notice')
