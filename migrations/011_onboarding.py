"""Peewee migrations -- 011_onboarding.py: body shops' registration, the privacy notice,
the ASP centres a body shop works with, and password reset requests.

Every body shop that already has claims with a centre is linked to that centre, so a
centre's manager keeps opening files for the body shops it works with today. A first
privacy notice is written so the registration page opens; the call centre replaces it
with its own text (a new version) from `Sistema > Informativa privacy`.
"""

import datetime as dt

import peewee as pw
from peewee_migrate import Migrator

FIRST_NOTICE = (
    "Informativa sul trattamento dei dati personali (art. 13 Regolamento UE 2016/679). "
    "I dati indicati in questo modulo sono trattati dalla rete RESTART per registrare la carrozzeria "
    "sul portale, inviarle le credenziali di accesso e gestire le pratiche di sinistro che essa invia. "
    "Sono comunicati al Centro ASP scelto e ai legali incaricati delle pratiche, e conservati per la "
    "durata del rapporto e per i termini di legge. L'interessato può chiedere accesso, rettifica o "
    "cancellazione scrivendo al call center RESTART."
)


def _first_notice(database: pw.Database) -> None:
    database.execute_sql(
        f'INSERT INTO "privacy_notice" ("created_at", "version", "title", "text") '
        f'VALUES ({database.param}, 1, {database.param}, {database.param})',
        (dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), "Informativa privacy", FIRST_NOTICE))


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class PrivacyNotice(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        version = pw.IntegerField(unique=True)
        title = pw.CharField(max_length=200)
        text = pw.TextField()

        class Meta:
            table_name = "privacy_notice"

    @migrator.create_model
    class RepairerCentre(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        repairer = pw.ForeignKeyField(column_name='repairer_id', field='id', model=migrator.orm['repairer'],
                                      on_delete='CASCADE')
        asp_centre = pw.ForeignKeyField(column_name='asp_centre_id', field='id', model=migrator.orm['asp_centre'],
                                        on_delete='CASCADE')

        class Meta:
            table_name = "repairer_centre"
            indexes = [(('repairer', 'asp_centre'), True), (('asp_centre', 'repairer'), False)]

    @migrator.create_model
    class RegistrationRequest(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        name = pw.CharField(max_length=200)
        vat_number = pw.CharField(max_length=11, index=True)
        fiscal_code = pw.CharField(max_length=16)
        address = pw.CharField(max_length=300)
        email = pw.CharField(max_length=254)
        pec = pw.CharField(max_length=254, null=True)
        phone = pw.CharField(max_length=40)
        contact_person = pw.CharField(max_length=200)
        asp_centre = pw.ForeignKeyField(column_name='asp_centre_id', field='id', model=migrator.orm['asp_centre'],
                                        on_delete='CASCADE')
        privacy_notice = pw.ForeignKeyField(column_name='privacy_notice_id', field='id', model=PrivacyNotice,
                                            on_delete='RESTRICT')
        privacy_accepted_at = pw.DateTimeField()
        remote_addr = pw.CharField(max_length=64, null=True, index=True)
        status = pw.CharField(max_length=12, default='unconfirmed', index=True)
        email_confirmed_at = pw.DateTimeField(null=True)
        decided_at = pw.DateTimeField(null=True)
        decided_by = pw.ForeignKeyField(column_name='decided_by_id', field='id', model=migrator.orm['user'],
                                        null=True, on_delete='SET NULL')
        reject_reason = pw.TextField(null=True)
        repairer = pw.ForeignKeyField(column_name='repairer_id', field='id', model=migrator.orm['repairer'],
                                      null=True, on_delete='SET NULL')

        class Meta:
            table_name = "registration_request"

    @migrator.create_model
    class PasswordResetRequest(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        login = pw.CharField(max_length=254)
        address = pw.CharField(max_length=64, null=True)
        user = pw.ForeignKeyField(column_name='user_id', field='id', model=migrator.orm['user'], null=True,
                                  on_delete='CASCADE')

        class Meta:
            table_name = "password_reset_request"
            indexes = [(('address', 'created_at'), False), (('user', 'created_at'), False)]

    migrator.sql('INSERT INTO "repairer_centre" ("created_at", "repairer_id", "asp_centre_id") '
                 'SELECT MIN("created_at"), "repairer_id", "asp_centre_id" FROM "claim" '
                 'GROUP BY "repairer_id", "asp_centre_id"')
    migrator.run(_first_notice, database)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.remove_model('password_reset_request')
    migrator.remove_model('registration_request')
    migrator.remove_model('repairer_centre')
    migrator.remove_model('privacy_notice')
