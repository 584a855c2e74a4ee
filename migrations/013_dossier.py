"""Peewee migrations -- 013_dossier.py: what the claim letter needs, and the claim's dossier.

The claim letter (art. 148 CdA) names the claims office's postal address, where and when
the body shop shows the damaged vehicle, the body shop's IBAN when the credit was assigned
to it, and the sender's address: new nullable columns, filled from the registry's forms.
The dossier is one row per claim, rebuilt in place by the worker.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields('insurance_company', claims_address=pw.CharField(max_length=300, null=True))
    migrator.add_fields('repairer', inspection_hours=pw.CharField(max_length=300, null=True),
                        iban=pw.CharField(max_length=34, null=True))
    migrator.add_fields('lawyer', address=pw.CharField(max_length=300, null=True))

    @migrator.create_model
    class ClaimDossier(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        claim = pw.ForeignKeyField(column_name='claim_id', field='id', model=migrator.orm['claim'],
                                   on_delete='CASCADE', unique=True)
        state = pw.CharField(max_length=10, default='queued')
        fingerprint = pw.CharField(max_length=64)
        selection = pw.TextField()
        progress = pw.IntegerField(default=0)
        total = pw.IntegerField(default=0)
        stored_name = pw.CharField(max_length=80, null=True)
        print_stored_name = pw.CharField(max_length=80, null=True)
        pages = pw.IntegerField(null=True)
        size = pw.BigIntegerField(null=True)
        sha256 = pw.CharField(max_length=64, null=True)
        left_out = pw.TextField(null=True)
        error = pw.TextField(null=True)
        requested_by = pw.ForeignKeyField(column_name='requested_by_id', field='id', model=migrator.orm['user'],
                                          null=True, on_delete='SET NULL')
        requested_at = pw.DateTimeField()
        started_at = pw.DateTimeField(null=True)
        finished_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "claim_dossier"
            constraints = [pw.Check("progress >= 0")]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('claim_dossier')
    migrator.remove_fields('lawyer', 'address')
    migrator.remove_fields('repairer', 'inspection_hours', 'iban')
    migrator.remove_fields('insurance_company', 'claims_address')
