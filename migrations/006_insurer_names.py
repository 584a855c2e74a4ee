"""Peewee migrations -- 006_insurer_names.py: insurers' names as WinCar sent them, and aliases.

Existing claims get, for each vehicle, the name of the insurer they point to: until now
WinCar's name became a registry row, so that name is the closest thing to what was sent.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'claim',
        vehicle_a_insurer_name=pw.CharField(max_length=200, null=True),
        vehicle_b_insurer_name=pw.CharField(max_length=200, null=True))

    @migrator.create_model
    class InsurerAlias(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        key = pw.CharField(max_length=200, unique=True)
        name = pw.CharField(max_length=200)
        insurer = pw.ForeignKeyField(column_name='insurer_id', field='id', model=migrator.orm['insurance_company'],
                                     on_delete='CASCADE')
        created_by = pw.ForeignKeyField(column_name='created_by_id', field='id', model=migrator.orm['user'],
                                        null=True, on_delete='SET NULL')

        class Meta:
            table_name = "insurer_alias"

    for side in ('a', 'b'):
        migrator.sql(f'UPDATE "claim" SET "vehicle_{side}_insurer_name" = (SELECT "name" FROM "insurance_company" '
                     f'WHERE "insurance_company"."id" = "claim"."vehicle_{side}_insurer_id") '
                     f'WHERE "vehicle_{side}_insurer_id" IS NOT NULL')
        migrator.sql(f'CREATE INDEX "claim_vehicle_{side}_insurer_name" ON "claim" ("vehicle_{side}_insurer_name") '
                     f'WHERE "vehicle_{side}_insurer_id" IS NULL AND "vehicle_{side}_insurer_name" IS NOT NULL')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    for side in ('a', 'b'):
        migrator.sql(f'DROP INDEX IF EXISTS "claim_vehicle_{side}_insurer_name"')
    migrator.remove_model('insurer_alias')
    migrator.remove_fields('claim', 'vehicle_a_insurer_name', 'vehicle_b_insurer_name')
