"""The claim file (pratica) and what hangs off it: attachments, history, payments."""
from __future__ import annotations

import datetime as dt

import peewee as pw
from flask_babel import lazy_gettext as _l

from . import validators
from .base import BaseModel, MoneyField, db, utcnow
from .parties import AspCentre, InsuranceCompany, Lawyer, Repairer, ValidatedModel
from .users import User


class ClaimStatus:
    RECEIVED = "received"
    INCOMPLETE = "incomplete"
    VALIDATED = "validated"
    ASSIGNED = "assigned"
    FILED = "filed"
    PARTIALLY_REIMBURSED = "partially_reimbursed"
    REIMBURSED = "reimbursed"
    CLOSED = "closed"
    DROPPED = "dropped"
    CANCELLED = "cancelled"

    LABELS = {
        RECEIVED: _l("Ricevuta"),
        INCOMPLETE: _l("Incompleta"),
        VALIDATED: _l("Validata"),
        ASSIGNED: _l("Affidata"),
        FILED: _l("Richiesta inviata"),
        PARTIALLY_REIMBURSED: _l("Rimborso parziale"),
        REIMBURSED: _l("Rimborsato chiuso"),
        CLOSED: _l("Chiuso"),
        DROPPED: _l("Senza seguito"),
        CANCELLED: _l("Annullata"),
    }
    # Bootstrap 4 badge colours, one per state.
    BADGES = {
        RECEIVED: "primary",
        INCOMPLETE: "warning",
        VALIDATED: "info",
        ASSIGNED: "secondary",
        FILED: "dark",
        PARTIALLY_REIMBURSED: "light",
        REIMBURSED: "success",
        CLOSED: "success",
        DROPPED: "danger",
        CANCELLED: "light",
    }
    ALL = tuple(LABELS)
    CHOICES = tuple(LABELS.items())
    FINAL = (REIMBURSED, CLOSED, DROPPED, CANCELLED)


class AttachmentKind:
    LABELS = {
        "denuncia": _l("Denuncia (Modulo Blu)"),
        "mandato": _l("Mandato"),
        "cessione_credito": _l("Cessione del credito"),
        "richiesta_danni": _l("Richiesta danni"),
        "documento_identita": _l("Documento d'identità"),
        "preventivo": _l("Preventivo"),
        "fattura": _l("Fattura di riparazione"),
        "foto": _l("Foto"),
        "perizia": _l("Perizia"),
        "certificato_medico": _l("Certificato medico di guarigione"),
        "altro": _l("Altro"),
    }
    ALL = tuple(LABELS)
    CHOICES = tuple(LABELS.items())


PROCEDURES = (("direct", _l("Indennizzo diretto (art. 149 CdA)")), ("ordinary", _l("Procedura ordinaria (art. 148 CdA)")))
OFFER_ANSWERS = (("accepted", _l("Accettata")), ("refused", _l("Rifiutata")))


class ClaimCounter(pw.Model):
    """Last portal number handed out in a year; the row lock serialises allocation."""

    year = pw.IntegerField(primary_key=True)
    last = pw.IntegerField(default=0)

    class Meta:
        database = db
        table_name = "claim_counter"


def allocate_number(year: int) -> str:
    """Next portal number of `year`, e.g. 2026/000123. Call inside the claim's transaction.

    The UPDATE takes the counter row's write lock until commit, so two concurrent
    intakes never read the same value, on PostgreSQL and on SQLite alike.
    """
    bump = (ClaimCounter.update(last=ClaimCounter.last + 1).where(ClaimCounter.year == year)
            .returning(ClaimCounter.last))
    rows = list(bump.execute())
    if not rows:  # the year's first claim
        ClaimCounter.insert(year=year, last=0).on_conflict_ignore().execute()
        rows = list(bump.execute())
    return f"{year}/{rows[0].last:06d}"


class Claim(ValidatedModel):
    SOURCES = (("wincar", "WinCar"), ("web", _l("Portale")))

    number = pw.CharField(max_length=12, unique=True, verbose_name=_l("Numero denuncia web"))
    wincar_ref = pw.CharField(max_length=64, null=True, verbose_name=_l("Riferimento WinCar"))
    source = pw.CharField(max_length=10, choices=SOURCES, default="web", verbose_name=_l("Origine"))
    received_at = pw.DateTimeField(default=utcnow, index=True, verbose_name=_l("Ricevuta il"))

    repairer = pw.ForeignKeyField(Repairer, backref="claims", on_delete="RESTRICT", verbose_name=_l("Carrozzeria"))
    asp_centre = pw.ForeignKeyField(AspCentre, backref="claims", on_delete="RESTRICT", verbose_name=_l("Centro ASP"))
    lawyer = pw.ForeignKeyField(Lawyer, null=True, backref="claims", on_delete="RESTRICT", verbose_name=_l("Legale"))
    insurer = pw.ForeignKeyField(InsuranceCompany, null=True, backref="claims", on_delete="RESTRICT", verbose_name=_l("Compagnia debitrice"))

    # Changed only by workflows/, never by a form.
    status = pw.CharField(max_length=24, choices=ClaimStatus.CHOICES, default=ClaimStatus.RECEIVED, verbose_name=_l("Stato"))
    status_since = pw.DateTimeField(default=utcnow, verbose_name=_l("Nello stato dal"))
    version = pw.IntegerField(default=1)

    # Customer (the damaged party)
    customer_name = pw.CharField(max_length=200, null=True, verbose_name=_l("Cliente"))
    customer_fiscal_code = pw.CharField(max_length=16, null=True, verbose_name=_l("Codice fiscale cliente"))
    customer_phone = pw.CharField(max_length=40, null=True, verbose_name=_l("Telefono cliente"))
    customer_email = pw.CharField(max_length=254, null=True, verbose_name=_l("E-mail cliente"))
    customer_address = pw.CharField(max_length=300, null=True, verbose_name=_l("Indirizzo cliente"))

    # Modulo Blu (constatazione amichevole di incidente)
    accident_date = pw.DateField(null=True, verbose_name=_l("Data sinistro"))
    accident_time = pw.TimeField(null=True, verbose_name=_l("Ora sinistro"))
    accident_place = pw.CharField(max_length=300, null=True, verbose_name=_l("Luogo sinistro"))
    vehicle_count = pw.SmallIntegerField(default=2, verbose_name=_l("Veicoli coinvolti"))
    vehicle_a_plate = pw.CharField(max_length=12, null=True, verbose_name=_l("Targa veicolo A"))
    vehicle_a_country = pw.CharField(max_length=3, default="I", verbose_name=_l("Nazione targa A"))
    vehicle_a_insurer = pw.ForeignKeyField(InsuranceCompany, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Compagnia veicolo A"))
    # The insurer's name as WinCar sent it; the foreign key is set only when the registry knows the name.
    vehicle_a_insurer_name = pw.CharField(max_length=200, null=True, verbose_name=_l("Compagnia veicolo A come inviata"))
    vehicle_a_policy = pw.CharField(max_length=40, null=True, verbose_name=_l("Polizza veicolo A"))
    vehicle_a_driver = pw.CharField(max_length=200, null=True, verbose_name=_l("Conducente veicolo A"))
    vehicle_a_circumstances = pw.CharField(max_length=60, null=True, verbose_name=_l("Circostanze veicolo A"))
    vehicle_b_plate = pw.CharField(max_length=12, null=True, verbose_name=_l("Targa veicolo B"))
    vehicle_b_country = pw.CharField(max_length=3, default="I", verbose_name=_l("Nazione targa B"))
    vehicle_b_insurer = pw.ForeignKeyField(InsuranceCompany, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Compagnia veicolo B"))
    vehicle_b_insurer_name = pw.CharField(max_length=200, null=True, verbose_name=_l("Compagnia veicolo B come inviata"))
    vehicle_b_policy = pw.CharField(max_length=40, null=True, verbose_name=_l("Polizza veicolo B"))
    vehicle_b_driver = pw.CharField(max_length=200, null=True, verbose_name=_l("Conducente veicolo B"))
    vehicle_b_circumstances = pw.CharField(max_length=60, null=True, verbose_name=_l("Circostanze veicolo B"))
    injuries = pw.BooleanField(default=False, verbose_name=_l("Feriti"))
    injured_persons = pw.TextField(null=True, verbose_name=_l("Persone ferite"))
    # What direct compensation needs to know about injuries (art. 149, 139, 141 CdA).
    injured_driver_a_only = pw.BooleanField(null=True, verbose_name=_l("Ferito solo il conducente del veicolo A"))
    passengers_injured = pw.BooleanField(null=True, verbose_name=_l("Passeggeri feriti"))
    disability_pct = pw.DecimalField(max_digits=4, decimal_places=1, null=True,
                                     verbose_name=_l("Invalidità permanente del conducente A (%)"))
    witnesses = pw.TextField(null=True, verbose_name=_l("Testimoni"))
    signed_by_both = pw.BooleanField(default=False, verbose_name=_l("Firmato da entrambi i conducenti"))

    # Amounts (euro, never float)
    estimate_amount = MoneyField(null=True, verbose_name=_l("Importo preventivo"))
    claimed_amount = MoneyField(null=True, verbose_name=_l("Importo richiesto"))

    # Dates the deadlines need (workflows/deadlines.py), each set by an event of the transition table
    complete_since = pw.DateField(null=True, verbose_name=_l("Documentazione completa dal"))
    claim_filed_on = pw.DateField(null=True, index=True, verbose_name=_l("Richiesta danni ricevuta dalla compagnia il"))
    procedure = pw.CharField(max_length=10, null=True, choices=PROCEDURES, verbose_name=_l("Procedura"))
    missing_requested_on = pw.DateField(null=True, index=True, verbose_name=_l("Integrazione chiesta dalla compagnia il"))
    missing_requested_items = pw.TextField(null=True, verbose_name=_l("Integrazione chiesta"))
    missing_sent_on = pw.DateField(null=True, index=True, verbose_name=_l("Integrazione inviata il"))
    offer_received_on = pw.DateField(null=True, index=True, verbose_name=_l("Prima offerta del"))
    offer_answer = pw.CharField(max_length=10, null=True, choices=OFFER_ANSWERS, verbose_name=_l("Risposta all'offerta"))
    offer_answered_on = pw.DateField(null=True, index=True, verbose_name=_l("Offerta accettata o rifiutata il"))
    # Dates of receipt and the insurer's answers (migration 020); each demand that interrupts
    # prescription is a PrescriptionInterruption row, the suspensions TermSuspension rows.
    personal_injury = pw.BooleanField(default=False, verbose_name=_l("La richiesta comprende danni alla persona"))
    missing_received_on = pw.DateField(null=True, verbose_name=_l("Integrazione ricevuta dalla compagnia il"))
    answer_received_on = pw.DateField(null=True, verbose_name=_l("Risposta all'offerta ricevuta dalla compagnia il"))
    offer_refused_on = pw.DateField(null=True, verbose_name=_l("Diniego motivato della compagnia del"))
    refusal_reason = pw.TextField(null=True, verbose_name=_l("Motivi del diniego"))
    first_paid_on = pw.DateField(null=True, verbose_name=_l("Primo pagamento del"))
    fraud_check_on = pw.DateField(null=True, verbose_name=_l("Approfondimento antifrode comunicato il"))
    prescription_years = pw.SmallIntegerField(null=True, verbose_name=_l("Anni di prescrizione (fatto reato)"))
    prescription_reason = pw.TextField(null=True, verbose_name=_l("Motivo della prescrizione più lunga"))
    # What the claim letter names (migration 023): the payee's IBAN when the credit is not
    # assigned, and what a request for personal injury must carry (art. 148 c.2 CdA); the
    # medical certificate of recovery is an attachment (`certificato_medico`).
    customer_iban = pw.CharField(max_length=34, null=True, verbose_name=_l("IBAN del cliente"))
    injured_birth_date = pw.DateField(null=True, verbose_name=_l("Data di nascita del danneggiato"))
    injured_occupation = pw.CharField(max_length=200, null=True, verbose_name=_l("Attività del danneggiato"))
    injured_income = MoneyField(null=True, verbose_name=_l("Reddito annuo del danneggiato"))
    injury_extent = pw.TextField(null=True, verbose_name=_l("Entità delle lesioni subite"))
    art142_declaration = pw.BooleanField(default=False, verbose_name=_l("Dichiarazione art. 142 c.2 CdA acquisita"))
    # The earliest of the queue limit and the legal terms (workflows/next_due.py), for grids and the sweep.
    next_due_on = pw.DateField(null=True, index=True, verbose_name=_l("Prossima scadenza"))
    next_due_kind = pw.CharField(max_length=16, null=True, index=True, verbose_name=_l("Tipo di scadenza"))
    next_warn_on = pw.DateField(null=True, index=True, verbose_name=_l("Preavviso dal"))
    # The day of the next reminder is not here but in `ReminderDue` (models/reminders.py).
    closed_at = pw.DateTimeField(null=True, verbose_name=_l("Chiusa il"))

    # Direct compensation (art. 149 CdA)
    direct_compensation = pw.BooleanField(null=True, verbose_name=_l("Indennizzo diretto"))
    direct_compensation_reason = pw.TextField(null=True, verbose_name=_l("Motivo valutazione indennizzo diretto"))
    wincar_assessment = pw.CharField(max_length=200, null=True, verbose_name=_l("Valutazione WinCar"))
    # Who pays (workflows/who_pays.py): the debtor insurer follows the procedure unless chosen by hand.
    insurer_by_hand = pw.BooleanField(default=False, verbose_name=_l("Compagnia debitrice indicata a mano"))
    # Numbers of other claims with the same plate and accident date, for the centre to check.
    possible_duplicates = pw.CharField(max_length=300, null=True, verbose_name=_l("Possibili duplicati"))

    # What a repairer must still send (codes of workflows.checklist), and why a file ended.
    missing_items = pw.TextField(null=True, verbose_name=_l("Documenti o dati mancanti"))
    missing_note = pw.TextField(null=True, verbose_name=_l("Nota sui mancanti"))
    outcome_reason = pw.CharField(max_length=30, null=True, verbose_name=_l("Motivo di chiusura"))
    outcome_note = pw.TextField(null=True, verbose_name=_l("Nota di chiusura"))

    notes = pw.TextField(null=True, verbose_name=_l("Note"))
    updated_at = pw.DateTimeField(default=utcnow, verbose_name=_l("Aggiornata il"))

    class Meta:
        indexes = (
            (("repairer", "wincar_ref"), True),
            (("status", "received_at"), False),
            (("asp_centre", "received_at"), False),
            (("lawyer", "received_at"), False),
            (("repairer", "received_at"), False),
            (("repairer", "asp_centre"), False),
            (("repairer", "lawyer"), False),
            (("asp_centre", "status", "received_at"), False),
            (("lawyer", "status", "received_at"), False),
            (("repairer", "status", "received_at"), False),
            (("insurer", "status"), False),
            (("vehicle_a_plate", "accident_date"), False),
            (("vehicle_b_plate", "accident_date"), False),
            (("customer_name",), False),
            (("status_since",), False),
            # The dashboard's reads of the open claims (per state, centre and lawyer with their
            # deadline levels; per state and day in it) answered from the index alone.
            (("status", "asp_centre", "lawyer", "status_since", "next_due_on", "next_warn_on"), False),
        )

    def validate(self) -> None:
        for side in ("a", "b"):
            value = getattr(self, f"vehicle_{side}_plate")
            if value:
                country = getattr(self, f"vehicle_{side}_country")
                setattr(self, f"vehicle_{side}_plate", validators.plate(value, country, f"vehicle_{side}_plate"))
        if self.customer_fiscal_code:
            self.customer_fiscal_code = validators.fiscal_code(self.customer_fiscal_code, "customer_fiscal_code")
        if self.customer_email:
            self.customer_email = validators.email(self.customer_email, "customer_email")
        if self.customer_iban:
            self.customer_iban = validators.iban(self.customer_iban, "customer_iban")
        for name in ("estimate_amount", "claimed_amount", "injured_income"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise validators.InvalidValue(name, _l("L'importo non può essere negativo."))
        self.updated_at = utcnow()

    @property
    def status_label(self):
        return ClaimStatus.LABELS.get(self.status, self.status)

    def days_in_status(self, now: dt.datetime | None = None) -> int:
        return ((now or utcnow()) - self.status_since).days

    def __str__(self) -> str:
        return self.number


# Names sent by WinCar that the registry does not know yet, for the call centre's grid and
# for applying a mapping: partial indexes hold only those, not every claim.
Claim.add_index(Claim.index(Claim.vehicle_a_insurer_name, where=(
    Claim.vehicle_a_insurer.is_null() & Claim.vehicle_a_insurer_name.is_null(False))))
Claim.add_index(Claim.index(Claim.vehicle_b_insurer_name, where=(
    Claim.vehicle_b_insurer.is_null() & Claim.vehicle_b_insurer_name.is_null(False))))


class Attachment(BaseModel):
    SOURCES = (("wincar", "WinCar"), ("web", _l("Portale")))

    claim = pw.ForeignKeyField(Claim, backref="attachments", on_delete="CASCADE")
    kind = pw.CharField(max_length=24, choices=AttachmentKind.CHOICES, verbose_name=_l("Tipo"))
    original_name = pw.CharField(max_length=255, verbose_name=_l("Nome file"))
    stored_name = pw.CharField(max_length=80, unique=True)
    content_type = pw.CharField(max_length=100, verbose_name=_l("Formato"))
    size = pw.IntegerField(verbose_name=_l("Dimensione (byte)"))
    sha256 = pw.CharField(max_length=64, verbose_name=_l("Impronta SHA-256"))
    version = pw.IntegerField(default=1, verbose_name=_l("Versione"))
    source = pw.CharField(max_length=10, choices=SOURCES, default="web", verbose_name=_l("Origine"))
    uploaded_at = pw.DateTimeField(default=utcnow, verbose_name=_l("Caricato il"))
    uploaded_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        indexes = ((("claim", "kind", "version"), True),)

    @property
    def kind_label(self):
        return AttachmentKind.LABELS.get(self.kind, self.kind)


class StatusChange(BaseModel):
    """One row per applied event: the claim's append-only history."""

    claim = pw.ForeignKeyField(Claim, backref="history", on_delete="CASCADE")
    at = pw.DateTimeField(default=utcnow, verbose_name=_l("Quando"))
    actor = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL", verbose_name=_l("Chi"))
    actor_label = pw.CharField(max_length=200, verbose_name=_l("Eseguito da"))
    event = pw.CharField(max_length=30, verbose_name=_l("Evento"))
    from_status = pw.CharField(max_length=24, null=True, verbose_name=_l("Da"))
    to_status = pw.CharField(max_length=24, verbose_name=_l("A"))
    note = pw.TextField(null=True, verbose_name=_l("Nota"))

    class Meta:
        indexes = ((("claim", "at"), False),)

    def save(self, *args, **kwargs):
        if self.id is not None and not kwargs.get("force_insert"):
            raise PermissionError("the claim history is append-only")
        return super().save(*args, **kwargs)

    def delete_instance(self, *args, **kwargs):
        raise PermissionError("the claim history is append-only")


class Payment(BaseModel):
    """An insurer's offer or a reimbursement received."""

    KINDS = (("offer", _l("Offerta")), ("reimbursement", _l("Rimborso")))

    claim = pw.ForeignKeyField(Claim, backref="payments", on_delete="CASCADE")
    kind = pw.CharField(max_length=16, choices=KINDS, verbose_name=_l("Tipo"))
    amount = MoneyField(verbose_name=_l("Importo"))
    on_date = pw.DateField(verbose_name=_l("Data"))
    payer = pw.ForeignKeyField(InsuranceCompany, null=True, backref="+", on_delete="RESTRICT", verbose_name=_l("Pagatore"))
    note = pw.TextField(null=True, verbose_name=_l("Nota"))
    recorded_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        indexes = ((("claim", "on_date"), False),)
        constraints = [pw.Check("amount > 0")]


class PrescriptionInterruption(BaseModel):
    """A written demand to the insurer (PEC or raccomandata A/R) that interrupts prescription
    from the day it reached the insurer (art. 2943 c.4 c.c.); sent on `on_date`, received on
    `received_on` (None: the receipt is not known yet, and the demand interrupts nothing yet)."""

    MEANS = (("pec", _l("PEC")), ("raccomandata", _l("Raccomandata A/R")))

    claim = pw.ForeignKeyField(Claim, backref="interruptions", on_delete="CASCADE")
    on_date = pw.DateField(verbose_name=_l("Inviata il"))
    received_on = pw.DateField(null=True, verbose_name=_l("Ricevuta dalla compagnia il"))
    means = pw.CharField(max_length=16, null=True, choices=MEANS, verbose_name=_l("Mezzo"))  # None: typed before 009
    note = pw.TextField(null=True, verbose_name=_l("Nota"))
    recorded_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        indexes = ((("claim", "on_date"), False),)

    @property
    def means_label(self):
        return dict(self.MEANS).get(self.means, self.means)


class TermSuspension(BaseModel):
    """The claimant refused the inspection of the vehicle or the medical examination: the
    offer term is suspended from `start_on` to `end_on` (None: still suspended), art. 148 c.3 CdA."""

    KINDS = (("inspection", _l("Rifiuto dell'ispezione del veicolo")),
             ("medical", _l("Rifiuto dell'accertamento medico")))

    claim = pw.ForeignKeyField(Claim, backref="suspensions", on_delete="CASCADE")
    kind = pw.CharField(max_length=16, choices=KINDS, verbose_name=_l("Motivo"))
    start_on = pw.DateField(verbose_name=_l("Dal"))
    end_on = pw.DateField(null=True, verbose_name=_l("Al"))
    note = pw.TextField(null=True, verbose_name=_l("Nota"))
    recorded_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        indexes = ((("claim", "start_on"), False),)

    @property
    def kind_label(self):
        return dict(self.KINDS).get(self.kind, self.kind)
