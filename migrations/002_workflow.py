"""Peewee migrations -- 002_workflow.py.

Some examples (model - class or model name)::

    > Model = migrator.orm['table_name']            # Return model in current state by name
    > Model = migrator.ModelClass                   # Return model in current state by name

    > migrator.sql(sql)                             # Run custom SQL
    > migrator.run(func, *args, **kwargs)           # Run python function with the given args
    > migrator.create_model(Model)                  # Create a model (could be used as decorator)
    > migrator.remove_model(model, cascade=True)    # Remove a model
    > migrator.add_fields(model, **fields)          # Add fields (allow_not_null=True skips default)
    > migrator.change_fields(model, **fields)       # Change fields
    > migrator.remove_fields(model, *field_names, cascade=True)
    > migrator.rename_field(model, old_field_name, new_field_name)
    > migrator.rename_table(model, new_table_name)
    > migrator.add_index(model, *col_names, unique=False)
    > migrator.add_not_null(model, *field_names)
    > migrator.add_default(model, field_name, default)
    > migrator.add_constraint(model, name, sql)
    > migrator.drop_index(model, *col_names)
    > migrator.drop_not_null(model, *field_names)
    > migrator.drop_constraints(model, *constraints)

"""

from contextlib import suppress

import peewee as pw
from peewee_migrate import Migrator

with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext

def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""
    

    migrator.add_fields(
        'claim',

        missing_items=pw.TextField(null=True),
        missing_note=pw.TextField(null=True),
        outcome_reason=pw.CharField(max_length=30, null=True),
        outcome_note=pw.TextField(null=True))

    # Grids of one party sorted by date, and "which repairers work with this centre".
    migrator.add_index('claim', 'asp_centre', 'received_at', unique=False)
    migrator.add_index('claim', 'lawyer', 'received_at', unique=False)
    migrator.add_index('claim', 'repairer', 'received_at', unique=False)
    migrator.add_index('claim', 'repairer', 'asp_centre', unique=False)
    migrator.add_index('claim', 'repairer', 'lawyer', unique=False)

    migrator.add_fields(
        'outbound_email',
        next_attempt_at=pw.DateTimeField(null=True, index=True),
        locked_until=pw.DateTimeField(null=True))

    @migrator.create_model
    class BulkJob(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], on_delete='CASCADE')
        event = pw.CharField(max_length=30)
        params = pw.TextField(default='{}')
        claim_ids = pw.TextField()
        total = pw.IntegerField(default=0)
        processed = pw.IntegerField(default=0)
        succeeded = pw.IntegerField(default=0)
        skipped = pw.TextField(default='[]')
        status = pw.CharField(default='queued', max_length=10)
        error = pw.TextField(null=True)
        finished_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "bulk_job"

def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    

    migrator.remove_fields('claim', 'missing_items', 'missing_note', 'outcome_reason', 'outcome_note')

    migrator.remove_model('bulk_job')

    for columns in (('asp_centre', 'received_at'), ('lawyer', 'received_at'), ('repairer', 'received_at'),
                    ('repairer', 'asp_centre'), ('repairer', 'lawyer')):
        migrator.drop_index('claim', *columns)

    migrator.remove_fields('outbound_email', 'next_attempt_at', 'locked_until')
