"""Peewee migrations -- 023_claim_letter_law.py: what the claim letter needs to be one the law accepts.

- The claimant's IBAN (`customer_iban`): the letter names the payee and its account; with a
  credit assigned to the body shop the body shop's (`repairer.iban`), else the claimant's.
- The data a request for personal injury must carry (art. 148 c.2 D.Lgs. 209/2005): the
  injured claimant's date of birth (its age), occupation, yearly income, the extent of the
  injuries, and whether the declaration of art. 142 c.2 (benefits from social insurance)
  is on file. The medical certificate of recovery is an attachment (`certificato_medico`),
  a new kind of document that needs no column.
Existing claims have none of them: the letter says which are missing, never invents them.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'claim',
        customer_iban=pw.CharField(max_length=34, null=True),
        injured_birth_date=pw.DateField(null=True),
        injured_occupation=pw.CharField(max_length=200, null=True),
        injured_income=pw.DecimalField(max_digits=12, decimal_places=2, auto_round=True, null=True),
        injury_extent=pw.TextField(null=True),
        art142_declaration=pw.BooleanField(default=False))


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_fields('claim', 'customer_iban', 'injured_birth_date', 'injured_occupation', 'injured_income',
                           'injury_extent', 'art142_declaration')
