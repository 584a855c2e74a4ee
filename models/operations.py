"""Operational tables: the e-mail outbox, queue limits, the intake log."""
from __future__ import annotations

import peewee as pw
from flask_babel import lazy_gettext as _l

from .base import BaseModel, utcnow
from .claims import Claim, ClaimStatus
from .claims_office import ClaimsOfficeSending
from .parties import ValidatedModel
from .users import User
from .validators import InvalidValue


class OutboundMessage(BaseModel):
    """What an outbox e-mail says, stored once however many recipients it goes to (a
    bulk action tells its three parties the same list of claims in one row of text)."""

    subject = pw.CharField(max_length=300, verbose_name=_l("Oggetto"))
    body = pw.TextField(verbose_name=_l("Testo"))


class OutboundEmail(BaseModel):
    """One recipient of an outbox message, and the state of its delivery: each recipient
    is taken, sent, retried and flagged on its own."""

    STATUSES = (
        ("pending", _l("In attesa")),
        ("sending", _l("In invio")),
        ("sent", _l("Inviata")),
        ("failed", _l("Non inviata")),
    )

    claim = pw.ForeignKeyField(Claim, null=True, backref="emails", on_delete="SET NULL", verbose_name=_l("Pratica"))
    recipients = pw.TextField(verbose_name=_l("Destinatari"))
    message = pw.ForeignKeyField(OutboundMessage, backref="emails", on_delete="CASCADE", verbose_name=_l("Messaggio"))
    status = pw.CharField(max_length=10, choices=STATUSES, default="pending", index=True, verbose_name=_l("Stato"))
    attempts = pw.IntegerField(default=0, verbose_name=_l("Tentativi"))
    last_error = pw.TextField(null=True, verbose_name=_l("Ultimo errore"))
    sent_at = pw.DateTimeField(null=True, verbose_name=_l("Inviata il"))
    next_attempt_at = pw.DateTimeField(null=True, index=True, verbose_name=_l("Prossimo tentativo"))
    # Set while one worker is talking to the SMTP server, so no other sends the same row:
    # the worker's name (models/workers.py: the lock is free once that worker is gone)
    # and a ceiling past every SMTP timeout, in case the worker lives on but never returns.
    locked_by = pw.CharField(max_length=64, null=True, verbose_name=_l("Processo di invio"))
    locked_until = pw.DateTimeField(null=True, verbose_name=_l("In invio fino a"))
    # Committed before the DATA command: a row found `sending` whose worker died may have
    # been delivered; it is sent again once, flagged, with the same Message-ID.
    sending_at = pw.DateTimeField(null=True, verbose_name=_l("DATA inviato il"))
    smtp_reply = pw.TextField(null=True, verbose_name=_l("Risposta del server SMTP"))
    possible_duplicate = pw.BooleanField(default=False, constraints=[pw.SQL("DEFAULT FALSE")],
                                         verbose_name=_l("Possibile duplicato"))
    # A message of a sending to an insurer's claims office: once the server accepts it, the
    # claim may be filed (workflows/claims_office_delivery.py).
    claims_office_sending = pw.ForeignKeyField(ClaimsOfficeSending, null=True, backref="emails",
                                               on_delete="SET NULL", verbose_name=_l("Invio all'ufficio sinistri"))

    @classmethod
    def with_message(cls) -> pw.ModelSelect:
        """The rows with their message's subject and body, read in the same query."""
        return cls.select(cls, OutboundMessage).join(OutboundMessage)

    # Read-only: the text belongs to the message, shared with the other recipients. Rows
    # read through `with_message()` carry it; any other row reads it with one query.
    @property
    def subject(self) -> str:
        return self.message.subject

    @property
    def body(self) -> str:
        return self.message.body


class OutboundAttachment(BaseModel):
    """A file an outbox e-mail carries: a reference to storage, read when the message is sent
    (never a copy of its bytes in the database); the sha256 is checked before it goes."""

    email = pw.ForeignKeyField(OutboundEmail, backref="attachments", on_delete="CASCADE", verbose_name=_l("E-mail"))
    position = pw.SmallIntegerField(default=0)
    filename = pw.CharField(max_length=255, verbose_name=_l("Nome del file"))
    content_type = pw.CharField(max_length=100, verbose_name=_l("Tipo"))
    stored_name = pw.CharField(max_length=255)  # under STORAGE_DIR, as Attachment.stored_name
    size = pw.IntegerField(verbose_name=_l("Dimensione"))
    sha256 = pw.CharField(max_length=64)

    class Meta:
        indexes = ((("email", "position"), False),)


class QueueLimit(ValidatedModel):
    """The longest a claim may stay in a state, set by the call centre."""

    status = pw.CharField(max_length=24, unique=True, choices=ClaimStatus.CHOICES, verbose_name=_l("Stato"))
    warning_days = pw.IntegerField(verbose_name=_l("Preavviso dopo (giorni)"))
    breach_days = pw.IntegerField(verbose_name=_l("Scadenza dopo (giorni)"))
    # Working days (Monday to Friday, no public holiday) rather than calendar days: a limit
    # is the call centre's, not the law's (workflows/deadlines.add_working_days).
    working_days = pw.BooleanField(default=False, constraints=[pw.SQL("DEFAULT FALSE")],
                                   verbose_name=_l("Conta in giorni lavorativi"))

    unique_messages = {"status": _l("Questo stato ha già i suoi tempi di permanenza.")}

    class Meta:
        constraints = [pw.Check("warning_days >= 0"), pw.Check("breach_days >= warning_days")]

    def validate(self) -> None:
        """The table's CHECK constraints, said by the field they concern; and no limit on a
        final state: a closed file has no next deadline."""
        if self.status in ClaimStatus.FINAL:
            raise InvalidValue("status", _l("Lo stato «%(status)s» è finale: una pratica chiusa non ha tempi di "
                                            "permanenza. Scegli uno stato aperto.",
                                            status=ClaimStatus.LABELS[self.status]))
        if self.warning_days is not None and self.warning_days < 0:
            raise InvalidValue("warning_days", _l("Il preavviso non può essere negativo."))
        if self.breach_days is not None and self.warning_days is not None and self.breach_days < self.warning_days:
            raise InvalidValue("breach_days", _l("La scadenza non può venire prima del preavviso: indica almeno "
                                                 "%(days)d giorni.", days=self.warning_days))


class IntakeEvent(BaseModel):
    """Raw log of each WinCar request, for audit; never the documents' content."""

    received_at = pw.DateTimeField(default=utcnow, index=True)
    remote_addr = pw.CharField(max_length=64, null=True, verbose_name=_l("Indirizzo IP"))
    wincar_user = pw.CharField(max_length=64, null=True)
    event = pw.CharField(max_length=16, null=True)
    wincar_ref = pw.CharField(max_length=64, null=True)
    idempotency_key = pw.CharField(max_length=128, null=True, verbose_name=_l("Chiave di idempotenza"))
    http_status = pw.IntegerField()
    claim = pw.ForeignKeyField(Claim, null=True, backref="intake_events", on_delete="SET NULL")
    payload = pw.TextField(null=True, verbose_name=_l("Dati ricevuti"))
    error = pw.TextField(null=True)
    duration_ms = pw.IntegerField(null=True)

    class Meta:
        indexes = ((("wincar_user", "idempotency_key"), False),)


# Recent failed logins per UserID (the login throttle reads them on every request): a
# partial index holds only the failures, not every claim sent. The second one answers
# "has this UserID succeeded from this address before", asked only while it is held back.
IntakeEvent.add_index(IntakeEvent.index(IntakeEvent.wincar_user, IntakeEvent.received_at,
                                        where=(IntakeEvent.http_status == 401)))
IntakeEvent.add_index(IntakeEvent.index(IntakeEvent.wincar_user, IntakeEvent.remote_addr,
                                        where=(IntakeEvent.http_status < 400)))


class BulkJob(BaseModel):
    """A bulk action on many claims, run in the worker when it is large; shows progress.

    A worker runs a job while it holds its lease: `owner` names the worker and
    `lease_until` is renewed at each batch and by a heartbeat, so a job whose worker
    died is recognised once the lease lapses and is taken over from its first
    unprocessed batch. For a job still queued, `lease_until` is when its task is sent
    again if no worker has taken it (`workflows/bulk_jobs.py`).
    """

    STATUSES = (
        ("queued", _l("In coda")),
        ("running", _l("In corso")),
        ("done", _l("Completato")),
        ("failed", _l("Interrotto")),
    )

    user = pw.ForeignKeyField(User, backref="bulk_jobs", on_delete="CASCADE", verbose_name=_l("Utente"))
    event = pw.CharField(max_length=30, verbose_name=_l("Azione"))
    params = pw.TextField(default="{}")
    claim_ids = pw.TextField(verbose_name=_l("Pratiche"))
    total = pw.IntegerField(default=0, verbose_name=_l("Totale"))
    processed = pw.IntegerField(default=0, verbose_name=_l("Elaborate"))
    succeeded = pw.IntegerField(default=0, verbose_name=_l("Riuscite"))
    skipped = pw.TextField(default="[]", verbose_name=_l("Saltate"))
    status = pw.CharField(max_length=10, choices=STATUSES, default="queued", verbose_name=_l("Stato"))
    error = pw.TextField(null=True)
    finished_at = pw.DateTimeField(null=True, verbose_name=_l("Terminato il"))
    owner = pw.CharField(max_length=100, null=True, verbose_name=_l("Worker"))
    lease_until = pw.DateTimeField(null=True, verbose_name=_l("Assegnato al worker fino a"))
    interruptions = pw.IntegerField(default=0, verbose_name=_l("Interruzioni del worker"))


class BulkNotice(BaseModel):
    """A claim a bulk job changed, as it stood after the change (state, parties, note), kept
    until the job ends and tells each party once of all its claims (`workflows/bulk_notices.py`):
    a job of 5,000 claims runs in batches, but is one action for the people it concerns."""

    job = pw.ForeignKeyField(BulkJob, backref="notices", on_delete="CASCADE", index=False)
    claim = pw.ForeignKeyField(Claim, on_delete="CASCADE")
    status = pw.CharField(max_length=24)
    repairer_id = pw.IntegerField()
    asp_centre_id = pw.IntegerField()
    lawyer_id = pw.IntegerField(null=True)
    note = pw.TextField(null=True)

    class Meta:
        indexes = ((("job", "claim"), True),)  # a claim is changed once by its job; finds a job's rows
