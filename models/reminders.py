"""Reminders of deadlines: each sent once per claim, term, date, level and recipient, and
gathered into one digest e-mail per recipient and day (workflows/reminders.py)."""
from __future__ import annotations

import peewee as pw
from flask_babel import lazy_gettext as _l

from .base import BaseModel, db
from .claims import Claim
from .operations import OutboundEmail


class ReminderDue(pw.Model):
    """The day a claim's next reminder is due, with the deadline it is for; a row only while
    one is pending (the warning, then the breach; none once both are said).

    A table of its own rather than a column of `claim`: the sweep moves the day of
    thousands of claims, and on `claim` (three dozen indexes, the day among them) each
    move was a new entry in every index; here it is one narrow row and its two indexes.
    The deadline's dates are copied beside the day so that the sweep computes the next
    day from the row it moves, in the statement that moves it (workflows/reminders.py).
    Written with the claim's next deadline, in its transaction (`workflows.deadline_store.schedule_reminders`).
    """

    claim = pw.ForeignKeyField(Claim, primary_key=True, on_delete="CASCADE", verbose_name=_l("Pratica"))
    remind_on = pw.DateField(null=True, index=True, verbose_name=_l("Prossimo promemoria"))  # null only inside a sweep
    due_on = pw.DateField(verbose_name=_l("Scadenza"))
    warn_on = pw.DateField(null=True, verbose_name=_l("Preavviso dal"))

    class Meta:
        database = db
        legacy_table_names = False


class ReminderDigest(BaseModel):
    """The one e-mail of the day to one recipient that lists every claim fallen due for it."""

    recipient = pw.CharField(max_length=40, verbose_name=_l("Destinatario"))  # as DeadlineReminder.recipient
    day = pw.DateField(verbose_name=_l("Giorno"))
    reminders = pw.IntegerField(default=0, verbose_name=_l("Promemoria"))
    email = pw.ForeignKeyField(OutboundEmail, null=True, on_delete="SET NULL", verbose_name=_l("E-mail"))

    class Meta:
        indexes = ((("recipient", "day"), True),)


class DeadlineReminder(BaseModel):
    """One claim's deadline reached a level (in scadenza, scaduta) for one recipient.

    The unique key is the guarantee that nothing is said twice: a second sweep, a second
    worker or a restart meets it and writes nothing. A deadline that moves has a new
    `due_on`, so it may be reminded again for its new date.
    """

    # No index of its own: the unique key below starts with the claim (one index less to
    # write for each of the many reminders a sweep records).
    claim = pw.ForeignKeyField(Claim, backref="reminders", on_delete="CASCADE", index=False,
                               verbose_name=_l("Pratica"))
    kind = pw.CharField(max_length=16, verbose_name=_l("Tipo di scadenza"))
    due_on = pw.DateField(verbose_name=_l("Scadenza"))
    level = pw.CharField(max_length=10, verbose_name=_l("Livello"))  # due_soon / overdue
    # Who is told: "centre:<id>", "lawyer:<id>" or "callcentre"; the address is read when the digest is written.
    recipient = pw.CharField(max_length=40, verbose_name=_l("Destinatario"))
    # Indexed with the level and the claim (below): the reminders grid sorts by the day, and
    # the dashboard's overdue trend counts the claims of a range of days from the index alone.
    found_on = pw.DateField(verbose_name=_l("Rilevata il"))
    digest = pw.ForeignKeyField(ReminderDigest, null=True, backref="items", on_delete="SET NULL",
                                verbose_name=_l("Riepilogo"))

    class Meta:
        indexes = ((("claim", "kind", "due_on", "level", "recipient"), True),
                   (("found_on", "level", "claim"), False))


# What the digest step reads: the reminders not yet in any digest, by recipient (a partial
# index holds only those, so finding them does not grow with the reminders ever sent).
DeadlineReminder.add_index(DeadlineReminder.index(DeadlineReminder.recipient,
                                                  where=DeadlineReminder.digest.is_null()))
