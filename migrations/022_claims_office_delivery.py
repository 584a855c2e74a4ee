"""Peewee migrations -- 022_claims_office_delivery.py: the claims-office addresses the call
centre approves for an insurer (`insurer_address`), and each sending of a claim to a claims
office (`claims_office_sending`), which its outbox rows point at: the claim is filed once
the message is delivered, not when the button is pressed.

Sendings queued before this migration have no row: the claims they concern were filed
when sent, as the code then did.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class InsurerAddress(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        insurer = pw.ForeignKeyField(column_name='insurer_id', field='id', model=migrator.orm['insurance_company'],
                                     on_delete='CASCADE')
        address = pw.CharField(max_length=254)
        kind = pw.CharField(max_length=8)
        note = pw.CharField(max_length=300, null=True)
        approved_by = pw.ForeignKeyField(column_name='approved_by_id', field='id', model=migrator.orm['user'],
                                         null=True, on_delete='SET NULL')
        approved_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "insurer_address"
            indexes = [(('insurer', 'address'), True)]

    @migrator.create_model
    class ClaimsOfficeSending(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        claim = pw.ForeignKeyField(column_name='claim_id', field='id', model=migrator.orm['claim'],
                                   on_delete='CASCADE')
        kind = pw.CharField(max_length=8)
        address = pw.CharField(max_length=254)
        files_claim = pw.BooleanField()
        sent_by = pw.ForeignKeyField(column_name='sent_by_id', field='id', model=migrator.orm['user'], null=True,
                                     on_delete='SET NULL')
        accepted_at = pw.DateTimeField(null=True)
        delivered_on = pw.DateField(null=True)
        receipt_recorded_by = pw.ForeignKeyField(column_name='receipt_recorded_by_id', field='id',
                                                 model=migrator.orm['user'], null=True, on_delete='SET NULL')
        settled_at = pw.DateTimeField(null=True, index=True)

        class Meta:
            table_name = "claims_office_sending"
            indexes = [(('claim', 'created_at'), False)]

    migrator.add_fields(
        'outbound_email',
        claims_office_sending=pw.ForeignKeyField(column_name='claims_office_sending_id', field='id',
                                                 model=ClaimsOfficeSending, null=True, on_delete='SET NULL'))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.drop_index('outbound_email', 'claims_office_sending')
    migrator.remove_fields('outbound_email', 'claims_office_sending')
    migrator.remove_model('claims_office_sending')
    migrator.remove_model('insurer_address')
