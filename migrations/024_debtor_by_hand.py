"""Peewee migrations -- 024_debtor_by_hand.py: whether the debtor insurer was chosen by hand.

The debtor insurer ("Compagnia debitrice") follows the procedure (direct compensation: vehicle
A's insurer; ordinary: vehicle B's) unless someone chose another one by hand, which then wins
(`workflows.who_pays`). A claim whose debtor departs both from that rule and from the portal's
verdict (which WinCar's intake derived it from) was given it by hand in the form, and keeps it;
every other claim's debtor is the rule's from now on, as its letter's addressee already was.
Claims entered by hand before get their verdict from `flask --app app db-upgrade`, which runs this
(`who_pays.reassess_unassessed`: the rule is the workflow's).
"""

import peewee as pw
from peewee_migrate import Migrator

# The insurer the rule names: the procedure chosen on filing, else the portal's verdict.
BY_RULE = ('(CASE WHEN COALESCE("procedure", CASE WHEN "direct_compensation" THEN \'direct\' ELSE \'ordinary\' END)'
           ' = \'direct\' THEN "vehicle_a_insurer_id" ELSE "vehicle_b_insurer_id" END)')
BY_VERDICT = '(CASE WHEN "direct_compensation" THEN "vehicle_a_insurer_id" ELSE "vehicle_b_insurer_id" END)'


def _departs(rule: str) -> str:
    return f'({rule} IS NULL OR "insurer_id" <> {rule})'


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields('claim', insurer_by_hand=pw.BooleanField(default=False))
    migrator.sql(f'UPDATE "claim" SET "insurer_by_hand" = TRUE WHERE "insurer_id" IS NOT NULL '
                 f'AND {_departs(BY_RULE)} AND {_departs(BY_VERDICT)}')
    migrator.sql(f'UPDATE "claim" SET "insurer_id" = {BY_RULE} WHERE NOT "insurer_by_hand" '
                 f'AND ("insurer_id" IS NULL OR {_departs(BY_RULE)})')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('claim', 'insurer_by_hand')
