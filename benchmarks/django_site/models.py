"""Unmanaged models on our tables: the columns the claims grid shows (as our grid reads
only those, `list_fields`), a party's id and name."""
from django.db import models

STATUS_CHOICES = (
    ("received", "Ricevuta"), ("incomplete", "Incompleta"), ("validated", "Validata"), ("assigned", "Affidata"),
    ("filed", "Richiesta inviata"), ("partially_reimbursed", "Rimborso parziale"),
    ("reimbursed", "Rimborsato chiuso"), ("closed", "Chiuso"), ("dropped", "Senza seguito"),
    ("cancelled", "Annullata"),
)
KIND_CHOICES = (
    ("queue", "Tempo di permanenza nello stato"), ("offer", "Offerta della compagnia"),
    ("payment", "Pagamento dopo la risposta all'offerta"), ("suit", "Azione in giudizio possibile dal"),
    ("prescription", "Prescrizione del diritto"),
)


class Party(models.Model):
    name = models.CharField("Ragione sociale", max_length=200)

    class Meta:
        abstract = True
        managed = False

    def __str__(self):
        return self.name


class Repairer(Party):
    class Meta(Party.Meta):
        db_table = "repairer"
        verbose_name, verbose_name_plural = "carrozzeria", "carrozzerie"


class AspCentre(Party):
    class Meta(Party.Meta):
        db_table = "asp_centre"
        verbose_name, verbose_name_plural = "centro ASP", "centri ASP"


class Lawyer(Party):
    class Meta(Party.Meta):
        db_table = "lawyer"
        verbose_name, verbose_name_plural = "legale", "legali"


class InsuranceCompany(Party):
    class Meta(Party.Meta):
        db_table = "insurance_company"
        verbose_name, verbose_name_plural = "compagnia", "compagnie"


def party(model, label, **kwargs):
    return models.ForeignKey(model, models.DO_NOTHING, db_constraint=False, verbose_name=label, **kwargs)


class Claim(models.Model):
    number = models.CharField("Numero", max_length=12, unique=True)
    received_at = models.DateTimeField("Ricevuta")
    repairer = party(Repairer, "Carrozzeria")
    asp_centre = party(AspCentre, "Centro ASP")
    lawyer = party(Lawyer, "Legale", null=True)
    insurer = party(InsuranceCompany, "Compagnia", null=True)
    status = models.CharField("Stato", max_length=24, choices=STATUS_CHOICES)
    status_since = models.DateTimeField("Nello stato dal")
    next_due_on = models.DateField("Prossima scadenza", null=True)
    next_due_kind = models.CharField("Tipo di scadenza", max_length=16, null=True, choices=KIND_CHOICES)
    next_warn_on = models.DateField("Preavviso dal", null=True)
    vehicle_a_plate = models.CharField("Targa", max_length=12, null=True)
    possible_duplicates = models.CharField("Possibili duplicati", max_length=300, null=True)

    class Meta:
        managed = False
        db_table = "claim"
        verbose_name, verbose_name_plural = "pratica", "pratiche"

    def __str__(self):
        return self.number
