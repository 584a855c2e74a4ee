"""Peewee migrations -- 020_terms.py: the facts the legal terms read, as they reach their addressee.

- `claim.personal_injury`: the request claims personal injury (the 90-day offer term, art.
  148 c.2 CdA), apart from `injuries` (someone was hurt in the accident, the Modulo Blu's
  fact). Existing claims keep the term they had: it is set from `injuries`.
- The day the insurer received the integration (`missing_received_on`) and the answer to
  its offer (`answer_received_on`): the offer and payment terms run from them, not from
  the day they were sent. Unknown for the claims recorded before: the page says "in attesa
  di ricevuta" until a clerk records it, rather than guessing a date.
- The insurer's motivated refusal (`offer_refused_on`, `refusal_reason`), the first payment
  (`first_paid_on`, from the payments on file), its anti-fraud communication
  (`fraud_check_on`, art. 148 c.2-bis) and a longer prescription for a fact that is also a
  crime (`prescription_years`, `prescription_reason`, art. 2947 c.3 c.c.).
- Each demand that interrupts prescription keeps the day it was sent (`on_date`) and the day
  it reached the insurer (`received_on`, unknown for the letters recorded before). The claim
  no longer keeps "the last interruption" (`prescription_interrupted_on`): the whole chain is
  read from the rows.
- `term_suspension`: the claimant's refusal of the inspection or of the medical examination
  (art. 148 c.3 CdA) suspends the offer term, from one day to another.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields(
        'claim',
        personal_injury=pw.BooleanField(default=False),
        missing_received_on=pw.DateField(null=True),
        answer_received_on=pw.DateField(null=True),
        offer_refused_on=pw.DateField(null=True),
        refusal_reason=pw.TextField(null=True),
        first_paid_on=pw.DateField(null=True),
        fraud_check_on=pw.DateField(null=True),
        prescription_years=pw.SmallIntegerField(null=True),
        prescription_reason=pw.TextField(null=True))
    migrator.sql('UPDATE "claim" SET "personal_injury" = "injuries"')
    migrator.sql('UPDATE "claim" SET "first_paid_on" = (SELECT MIN("on_date") FROM "payment" '
                 'WHERE "payment"."claim_id" = "claim"."id" AND "payment"."kind" = \'reimbursement\')')
    migrator.drop_index('claim', 'prescription_interrupted_on')
    migrator.remove_fields('claim', 'prescription_interrupted_on')
    migrator.add_fields('prescription_interruption', received_on=pw.DateField(null=True))

    @migrator.create_model
    class TermSuspension(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        claim = pw.ForeignKeyField(column_name='claim_id', field='id', model=migrator.orm['claim'],
                                   on_delete='CASCADE')
        kind = pw.CharField(max_length=16)
        start_on = pw.DateField()
        end_on = pw.DateField(null=True)
        note = pw.TextField(null=True)
        recorded_by = pw.ForeignKeyField(column_name='recorded_by_id', field='id', model=migrator.orm['user'],
                                         null=True, on_delete='SET NULL')

        class Meta:
            table_name = "term_suspension"
            indexes = [(('claim', 'start_on'), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('term_suspension')
    migrator.remove_fields('prescription_interruption', 'received_on')
    migrator.add_fields('claim', prescription_interrupted_on=pw.DateField(null=True, index=True))
    migrator.remove_fields('claim', 'personal_injury', 'missing_received_on', 'answer_received_on',
                           'offer_refused_on', 'refusal_reason', 'first_paid_on', 'fraud_check_on',
                           'prescription_years', 'prescription_reason')
