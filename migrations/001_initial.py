"""Peewee migrations -- 001_initial.py.

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
from decimal import ROUND_HALF_EVEN

import peewee as pw
from peewee_migrate import Migrator


with suppress(ImportError):
    import playhouse.postgres_ext as pw_pext


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your migrations here."""
    
    @migrator.create_model
    class AspCentre(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        name = pw.CharField(max_length=200)
        vat_number = pw.CharField(max_length=11, unique=True)
        email = pw.CharField(max_length=254)
        pec = pw.CharField(max_length=254, null=True)
        address = pw.CharField(max_length=300, null=True)
        phone = pw.CharField(max_length=40, null=True)
        active = pw.BooleanField(default=True)

        class Meta:
            table_name = "asp_centre"

    @migrator.create_model
    class Repairer(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        name = pw.CharField(max_length=200)
        vat_number = pw.CharField(max_length=11, unique=True)
        fiscal_code = pw.CharField(max_length=16, null=True)
        address = pw.CharField(max_length=300, null=True)
        email = pw.CharField(max_length=254)
        pec = pw.CharField(max_length=254, null=True)
        phone = pw.CharField(max_length=40, null=True)
        wincar_user = pw.CharField(max_length=64, null=True, unique=True)
        wincar_password_hash = pw.CharField(max_length=255, null=True)
        active = pw.BooleanField(default=True)

        class Meta:
            table_name = "repairer"

    @migrator.create_model
    class Lawyer(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        name = pw.CharField(max_length=200)
        kind = pw.CharField(default='lawyer', max_length=20)
        email = pw.CharField(max_length=254)
        pec = pw.CharField(max_length=254, null=True)
        tax_code = pw.CharField(max_length=16, null=True)
        own_centre = pw.ForeignKeyField(column_name='own_centre_id', field='id', model=migrator.orm['asp_centre'], null=True, on_delete='CASCADE', unique=True)
        active = pw.BooleanField(default=True)

        class Meta:
            table_name = "lawyer"

    @migrator.create_model
    class InsuranceCompany(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        name = pw.CharField(max_length=200, unique=True)
        claims_email = pw.CharField(max_length=254, null=True)
        claims_pec = pw.CharField(max_length=254, null=True)
        active = pw.BooleanField(default=True)

        class Meta:
            table_name = "insurance_company"

    @migrator.create_model
    class Claim(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        number = pw.CharField(max_length=12, unique=True)
        wincar_ref = pw.CharField(max_length=64, null=True)
        source = pw.CharField(default='web', max_length=10)
        received_at = pw.DateTimeField(index=True)
        repairer = pw.ForeignKeyField(column_name='repairer_id', field='id', model=migrator.orm['repairer'], on_delete='RESTRICT')
        asp_centre = pw.ForeignKeyField(column_name='asp_centre_id', field='id', model=migrator.orm['asp_centre'], on_delete='RESTRICT')
        lawyer = pw.ForeignKeyField(column_name='lawyer_id', field='id', model=migrator.orm['lawyer'], null=True, on_delete='RESTRICT')
        insurer = pw.ForeignKeyField(column_name='insurer_id', field='id', model=migrator.orm['insurance_company'], null=True, on_delete='RESTRICT')
        status = pw.CharField(default='received', max_length=24)
        status_since = pw.DateTimeField()
        version = pw.IntegerField(default=1)
        customer_name = pw.CharField(max_length=200, null=True)
        customer_fiscal_code = pw.CharField(max_length=16, null=True)
        customer_phone = pw.CharField(max_length=40, null=True)
        customer_email = pw.CharField(max_length=254, null=True)
        customer_address = pw.CharField(max_length=300, null=True)
        accident_date = pw.DateField(null=True)
        accident_time = pw.TimeField(null=True)
        accident_place = pw.CharField(max_length=300, null=True)
        vehicle_count = pw.SmallIntegerField(default=2)
        vehicle_a_plate = pw.CharField(max_length=12, null=True)
        vehicle_a_country = pw.CharField(default='I', max_length=3)
        vehicle_a_insurer = pw.ForeignKeyField(column_name='vehicle_a_insurer_id', field='id', model=migrator.orm['insurance_company'], null=True, on_delete='RESTRICT')
        vehicle_a_policy = pw.CharField(max_length=40, null=True)
        vehicle_a_driver = pw.CharField(max_length=200, null=True)
        vehicle_a_circumstances = pw.CharField(max_length=60, null=True)
        vehicle_b_plate = pw.CharField(max_length=12, null=True)
        vehicle_b_country = pw.CharField(default='I', max_length=3)
        vehicle_b_insurer = pw.ForeignKeyField(column_name='vehicle_b_insurer_id', field='id', model=migrator.orm['insurance_company'], null=True, on_delete='RESTRICT')
        vehicle_b_policy = pw.CharField(max_length=40, null=True)
        vehicle_b_driver = pw.CharField(max_length=200, null=True)
        vehicle_b_circumstances = pw.CharField(max_length=60, null=True)
        injuries = pw.BooleanField(default=False)
        injured_persons = pw.TextField(null=True)
        witnesses = pw.TextField(null=True)
        signed_by_both = pw.BooleanField(default=False)
        estimate_amount = pw.DecimalField(auto_round=True, decimal_places=2, max_digits=12, null=True, rounding=ROUND_HALF_EVEN)
        claimed_amount = pw.DecimalField(auto_round=True, decimal_places=2, max_digits=12, null=True, rounding=ROUND_HALF_EVEN)
        complete_since = pw.DateField(null=True)
        claim_filed_on = pw.DateField(null=True)
        offer_answered_on = pw.DateField(null=True)
        prescription_interrupted_on = pw.DateField(null=True)
        closed_at = pw.DateTimeField(null=True)
        direct_compensation = pw.BooleanField(null=True)
        direct_compensation_reason = pw.TextField(null=True)
        wincar_assessment = pw.CharField(max_length=200, null=True)
        notes = pw.TextField(null=True)
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "claim"
            indexes = [(('repairer', 'wincar_ref'), True), (('status', 'received_at'), False), (('asp_centre', 'status', 'received_at'), False), (('lawyer', 'status', 'received_at'), False), (('repairer', 'status', 'received_at'), False), (('insurer', 'status'), False), (('vehicle_a_plate', 'accident_date'), False), (('vehicle_b_plate', 'accident_date'), False), (('customer_name',), False), (('status_since',), False)]

    @migrator.create_model
    class User(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        login = pw.CharField(max_length=64, unique=True)
        full_name = pw.CharField(max_length=200, null=True)
        email = pw.CharField(max_length=254, null=True)
        password_hash = pw.CharField(max_length=255)
        role = pw.CharField(index=True, max_length=20)
        asp_centre = pw.ForeignKeyField(column_name='asp_centre_id', field='id', model=migrator.orm['asp_centre'], null=True, on_delete='RESTRICT')
        lawyer = pw.ForeignKeyField(column_name='lawyer_id', field='id', model=migrator.orm['lawyer'], null=True, on_delete='RESTRICT')
        repairer = pw.ForeignKeyField(column_name='repairer_id', field='id', model=migrator.orm['repairer'], null=True, on_delete='RESTRICT')
        active = pw.BooleanField(default=True)
        language = pw.CharField(default='it', max_length=2)
        last_login_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "user"

    @migrator.create_model
    class Attachment(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        claim = pw.ForeignKeyField(column_name='claim_id', field='id', model=migrator.orm['claim'], on_delete='CASCADE')
        kind = pw.CharField(max_length=24)
        original_name = pw.CharField(max_length=255)
        stored_name = pw.CharField(max_length=80, unique=True)
        content_type = pw.CharField(max_length=100)
        size = pw.IntegerField()
        sha256 = pw.CharField(max_length=64)
        version = pw.IntegerField(default=1)
        source = pw.CharField(default='web', max_length=10)
        uploaded_at = pw.DateTimeField()
        uploaded_by = pw.ForeignKeyField(column_name='uploaded_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')

        class Meta:
            table_name = "attachment"
            indexes = [(('claim', 'kind', 'version'), True)]

    @migrator.create_model
    class ClaimCounter(pw.Model):
        year = pw.IntegerField(primary_key=True)
        last = pw.IntegerField(default=0)

        class Meta:
            table_name = "claim_counter"

    @migrator.create_model
    class IntakeEvent(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        received_at = pw.DateTimeField(index=True)
        remote_addr = pw.CharField(max_length=64, null=True)
        wincar_user = pw.CharField(index=True, max_length=64, null=True)
        event = pw.CharField(max_length=16, null=True)
        wincar_ref = pw.CharField(max_length=64, null=True)
        idempotency_key = pw.CharField(max_length=128, null=True)
        http_status = pw.IntegerField()
        claim = pw.ForeignKeyField(column_name='claim_id', field='id', model=migrator.orm['claim'], null=True, on_delete='SET NULL')
        payload = pw.TextField(null=True)
        error = pw.TextField(null=True)
        duration_ms = pw.IntegerField(null=True)

        class Meta:
            table_name = "intake_event"

    @migrator.create_model
    class LawyerCentre(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        lawyer = pw.ForeignKeyField(column_name='lawyer_id', field='id', model=migrator.orm['lawyer'], on_delete='CASCADE')
        asp_centre = pw.ForeignKeyField(column_name='asp_centre_id', field='id', model=migrator.orm['asp_centre'], on_delete='CASCADE')

        class Meta:
            table_name = "lawyer_centre"
            indexes = [(('lawyer', 'asp_centre'), True)]

    @migrator.create_model
    class OutboundEmail(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        claim = pw.ForeignKeyField(column_name='claim_id', field='id', model=migrator.orm['claim'], null=True, on_delete='SET NULL')
        recipients = pw.TextField()
        subject = pw.CharField(max_length=300)
        body = pw.TextField()
        status = pw.CharField(default='pending', index=True, max_length=10)
        attempts = pw.IntegerField(default=0)
        last_error = pw.TextField(null=True)
        sent_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "outbound_email"

    @migrator.create_model
    class Payment(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        claim = pw.ForeignKeyField(column_name='claim_id', field='id', model=migrator.orm['claim'], on_delete='CASCADE')
        kind = pw.CharField(max_length=16)
        amount = pw.DecimalField(auto_round=True, decimal_places=2, max_digits=12, rounding=ROUND_HALF_EVEN)
        on_date = pw.DateField()
        payer = pw.ForeignKeyField(column_name='payer_id', field='id', model=migrator.orm['insurance_company'], null=True, on_delete='RESTRICT')
        note = pw.TextField(null=True)
        recorded_by = pw.ForeignKeyField(column_name='recorded_by_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')

        class Meta:
            table_name = "payment"
            constraints = [pw.Check("amount > 0")]
            indexes = [(('claim', 'on_date'), False)]

    @migrator.create_model
    class QueueLimit(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        status = pw.CharField(max_length=24, unique=True)
        warning_days = pw.IntegerField()
        breach_days = pw.IntegerField()

        class Meta:
            table_name = "queue_limit"
            constraints = [pw.Check("warning_days >= 0"), pw.Check("breach_days >= warning_days")]

    @migrator.create_model
    class StatusChange(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        claim = pw.ForeignKeyField(column_name='claim_id', field='id', model=migrator.orm['claim'], on_delete='CASCADE')
        at = pw.DateTimeField()
        actor = pw.ForeignKeyField(column_name='actor_id', field='id', model=migrator.orm['user'], null=True, on_delete='SET NULL')
        actor_label = pw.CharField(max_length=200)
        event = pw.CharField(max_length=30)
        from_status = pw.CharField(max_length=24, null=True)
        to_status = pw.CharField(max_length=24)
        note = pw.TextField(null=True)

        class Meta:
            table_name = "status_change"
            indexes = [(('claim', 'at'), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Write your rollback migrations here."""
    
    migrator.remove_model('status_change')

    migrator.remove_model('queue_limit')

    migrator.remove_model('payment')

    migrator.remove_model('outbound_email')

    migrator.remove_model('lawyer_centre')

    migrator.remove_model('intake_event')

    migrator.remove_model('claim_counter')

    migrator.remove_model('attachment')

    migrator.remove_model('user')

    migrator.remove_model('claim')

    migrator.remove_model('insurance_company')

    migrator.remove_model('lawyer')

    migrator.remove_model('repairer')

    migrator.remove_model('asp_centre')
