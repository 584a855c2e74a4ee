"""Moving a claim to another repairer or another ASP centre: the call centre's "transfer".

Who a file belongs to decides who sees the customer's data, so it never changes
through the claim form: only through this event of the transition table, applied by
the call centre, with a reason, one history row and the e-mails to the parties it
leaves and the parties it reaches.

The lawyer, when the centre changes: a lawyer who also works for the new centre
keeps the file (its state is kept too); any other lawyer, and always the old
centre's own desk, loses it: the lawyer is cleared and a claim being recovered
(Affidata, Richiesta inviata, Rimborso parziale) returns to Validata, for the new
centre to entrust it again. Its dates, offers and payments stay on the file.

The parties the file reaches get the usual status e-mail; those it leaves get one of
their own ("transferred_away"), which names neither the new parties nor a link they
could no longer open.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from models import AspCentre, Claim, ClaimStatus, LawyerCentre, Repairer, parse_id

from . import notify
from .change import Change
from .errors import FieldErrors, InvalidData
from .transitions import IN_RECOVERY


def _pick(model, value, field: str, label):
    row_id = parse_id(getattr(value, "id", value))
    row = model.get_or_none(model.id == row_id) if row_id else None
    if row is None or not row.active:
        raise InvalidData(_l("%(field)s: scegli un'anagrafica attiva dall'elenco.", field=label), field)
    return row


def lawyer_stays(claim: Claim, centre: AspCentre) -> bool:
    """Does the claim's lawyer also work for `centre`? (A centre's own desk never does.)"""
    lawyer = claim.lawyer
    if lawyer is None:
        return True
    if lawyer.own_centre_id is not None:
        return lawyer.own_centre_id == centre.id
    return LawyerCentre.select().where(LawyerCentre.lawyer == lawyer.id, LawyerCentre.asp_centre == centre.id).exists()


def prepare(claim: Claim, user, repairer=None, asp_centre=None, note=None) -> Change:
    errors = FieldErrors()  # every wrong field is told at once
    reason = (note or "").strip() if isinstance(note, str) else None
    if not reason:
        errors.add("note", _l("Indica il motivo del trasferimento."))
    new_repairer = errors.check(_pick, Repairer, repairer if repairer not in (None, "") else claim.repairer_id,
                                "repairer", _l("Carrozzeria"))
    new_centre = errors.check(_pick, AspCentre, asp_centre if asp_centre not in (None, "") else claim.asp_centre_id,
                              "asp_centre", _l("Centro ASP"))
    errors.raise_if_any()
    if new_repairer.id == claim.repairer_id and new_centre.id == claim.asp_centre_id:
        raise InvalidData(_l("Scegli un'altra carrozzeria o un altro Centro ASP."), "asp_centre")

    updates, words, told = {}, [], []
    if new_repairer.id != claim.repairer_id:
        updates["repairer"] = new_repairer.id
        words.append(f"carrozzeria da {claim.repairer.name} a {new_repairer.name}")
        told.append(claim.repairer.email)
    target = None
    if new_centre.id != claim.asp_centre_id:
        updates["asp_centre"] = new_centre.id
        words.append(f"Centro ASP da {claim.asp_centre.name} a {new_centre.name}")
        told.append(claim.asp_centre.email)
        if not lawyer_stays(claim, new_centre):
            updates["lawyer"] = None
            words.append(f"affidamento a {claim.lawyer.name} revocato")
            told.append(claim.lawyer.email)
            if claim.status in IN_RECOVERY:
                target = ClaimStatus.VALIDATED
    def tell_the_old_parties(saved: Claim) -> None:
        current = {a.lower() for a in notify.recipients(Claim.get_by_id(saved.id))}
        away = [a for a in dict.fromkeys(told) if a and a.lower() not in current]
        notify.queue(saved, away, "transferred_away", reason=reason, actor=str(user))

    return Change(target=target, updates=updates, after=tell_the_old_parties,
                  note=f"Pratica trasferita: {'; '.join(words)}. Motivo: {reason}")
