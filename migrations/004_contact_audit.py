"""Peewee migrations -- 004_contact_audit.py: the audit trail of contact addresses.

A new, empty table: changes made before it existed were not recorded anywhere, so
there is nothing to fill in.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class ContactChange(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        at = pw.DateTimeField()
        party_type = pw.CharField(max_length=20)
        party_id = pw.IntegerField()
        party_name = pw.CharField(max_length=200)
        field = pw.CharField(max_length=30)
        old_value = pw.CharField(max_length=254, null=True)
        new_value = pw.CharField(max_length=254, null=True)
        actor = pw.ForeignKeyField(column_name='actor_id', field='id', model=migrator.orm['user'], null=True,
                                   on_delete='SET NULL')
        actor_label = pw.CharField(max_length=200)

        class Meta:
            table_name = "contact_change"
            indexes = ((("party_type", "party_id", "at"), False), (("at",), False))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('contact_change')
