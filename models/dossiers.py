"""The dossier (fascicolo) of a claim: one PDF of the whole file, built in the worker."""
from __future__ import annotations

import peewee as pw
from flask_babel import lazy_gettext as _l

from .base import BaseModel, utcnow
from .claims import Claim
from .users import User


class DossierState:
    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"

    LABELS = {
        QUEUED: _l("In coda"),
        BUILDING: _l("In preparazione"),
        READY: _l("Pronto"),
        FAILED: _l("Non riuscito"),
    }
    CHOICES = tuple(LABELS.items())
    UNDER_WAY = (QUEUED, BUILDING)


class ClaimDossier(BaseModel):
    """The claim's one dossier: rebuilt in place when the attachments it is made of change.

    `fingerprint` is the sha256 of the selection it was asked for (each attachment's id and
    sha256, in order): a request with the same one finds the dossier as it is. The two files
    (the dossier, and the same preceded by the raccomandata's envelope page) are stored under
    generated names next to the attachments; `left_out` lists, as JSON, the documents that
    could not be bound in (name, type, reason), also printed on the cover.
    """

    claim = pw.ForeignKeyField(Claim, unique=True, backref="dossiers", on_delete="CASCADE",
                               verbose_name=_l("Pratica"))
    state = pw.CharField(max_length=10, choices=DossierState.CHOICES, default=DossierState.QUEUED,
                         verbose_name=_l("Stato"))
    fingerprint = pw.CharField(max_length=64, verbose_name=_l("Impronta degli allegati"))
    selection = pw.TextField(verbose_name=_l("Allegati scelti"))  # JSON list of attachment ids, in order
    progress = pw.IntegerField(default=0, verbose_name=_l("Documenti elaborati"))
    total = pw.IntegerField(default=0, verbose_name=_l("Documenti"))
    stored_name = pw.CharField(max_length=80, null=True, verbose_name=_l("File"))
    print_stored_name = pw.CharField(max_length=80, null=True, verbose_name=_l("File per raccomandata"))
    pages = pw.IntegerField(null=True, verbose_name=_l("Pagine"))
    size = pw.BigIntegerField(null=True, verbose_name=_l("Dimensione (byte)"))
    sha256 = pw.CharField(max_length=64, null=True, verbose_name=_l("Impronta SHA-256"))
    left_out = pw.TextField(null=True, verbose_name=_l("Documenti esclusi"))
    error = pw.TextField(null=True, verbose_name=_l("Errore"))
    requested_by = pw.ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL",
                                      verbose_name=_l("Richiesto da"))
    requested_at = pw.DateTimeField(default=utcnow, verbose_name=_l("Richiesto il"))
    started_at = pw.DateTimeField(null=True, verbose_name=_l("Iniziato il"))
    finished_at = pw.DateTimeField(null=True, verbose_name=_l("Terminato il"))

    class Meta:
        table_name = "claim_dossier"
        constraints = [pw.Check("progress >= 0")]

    @property
    def state_label(self):
        return DossierState.LABELS.get(self.state, self.state)
