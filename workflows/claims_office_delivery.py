"""When a sending to the claims office counts as delivered, and the claim is filed.

The insurer has the claim when it has the message, not when the button was pressed: a
message waiting in the outbox (SMTP not configured, down, refusing) has reached nobody.

- **E-mail**: delivered once the SMTP server accepted every message of the sending; the
  claim is filed (`file_claim`, through the engine) with `claim_filed_on` the day in Rome
  the last one was accepted. The worker calls `settle` right after a message is marked
  sent, and a sweep calls it again for any sending a worker left unsettled.
- **PEC**: the server's acceptance is not delivery; the claim waits for the delivery
  receipt, whose date the user records (`record_pec_receipt`).

A claim that is no longer Affidata when its sending is delivered (filed by hand, closed,
moved) is not filed again: its history gets a note. `settle` is safe to run twice: the
sending is claimed (`settled_at`) in the same transaction as the filing.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import peewee as pw
from flask_babel import lazy_gettext as _l

from models import Claim, ClaimsOfficeSending, ClaimStatus, OutboundEmail, StatusChange, User, db, utcnow

from . import claim_letter, dates, engine, notify
from .errors import InvalidData, NotAllowed
from .event_data import date as _date

log = logging.getLogger("gessin.workflows")

DELIVERED_EVENT = "claims_office_delivered"
SWEEP_BATCH = 200


@dataclass(frozen=True)
class Sending:
    """A sending as the claim page tells it."""

    row: ClaimsOfficeSending
    state: str  # "waiting" (still in the outbox), "pec_sent" (awaiting the receipt), "accepted", "delivered"
    accepted_at: dt.datetime | None
    error: str | None  # why a message has not left yet, as the outbox says

    @property
    def is_pec(self) -> bool:
        return self.row.kind == "pec"


def parts(sending_id: int) -> list[OutboundEmail]:
    return list(OutboundEmail.select(OutboundEmail.id, OutboundEmail.status, OutboundEmail.sent_at,
                                     OutboundEmail.last_error)
                .where(OutboundEmail.claims_office_sending == sending_id).order_by(OutboundEmail.id))


def _accepted_at(rows: list[OutboundEmail]) -> dt.datetime | None:
    """When the server accepted the last message of the sending; None while one has not left."""
    if not rows or any(r.status != "sent" or r.sent_at is None for r in rows):
        return None
    return max(r.sent_at for r in rows)


def sending_of(email_id: int) -> int | None:
    row = (OutboundEmail.select(OutboundEmail.claims_office_sending)
           .where(OutboundEmail.id == email_id).first())
    return row.claims_office_sending_id if row else None


def settle(sending_id: int) -> str:
    """Once every message of the sending was accepted: an e-mail files the claim; a PEC is
    marked sent and waits for its receipt. Returns what happened, for the log."""
    sending = ClaimsOfficeSending.get_or_none(ClaimsOfficeSending.id == sending_id)
    if sending is None or sending.settled_at is not None:
        return "done"
    accepted = _accepted_at(parts(sending.id))
    if accepted is None:
        return "waiting"
    if sending.accepted_at is None:
        ClaimsOfficeSending.update(accepted_at=accepted).where(ClaimsOfficeSending.id == sending.id,
                                                               ClaimsOfficeSending.accepted_at.is_null()).execute()
    if sending.kind == "pec":
        return "pec_sent"
    day = dates.to_rome(accepted).date()
    how = f"e-mail a {sending.address}, accettata dal server di posta il {day:%d/%m/%Y}"
    actor = User.get_or_none(User.id == sending.sent_by_id) if sending.sent_by_id else None
    return _deliver(sending, day, actor, how, {})


def record_pec_receipt(claim: Claim, user: User, sending_id, delivered_on) -> str:
    """The PEC's delivery receipt, recorded by hand: the day the insurer received it."""
    if not claim_letter.may_prepare(user, claim):
        raise NotAllowed(_l("Non sei autorizzato a registrare la ricevuta di consegna della pratica %(number)s.",
                            number=claim.number))
    sending = ClaimsOfficeSending.get_or_none(ClaimsOfficeSending.id == _id(sending_id),
                                              ClaimsOfficeSending.claim == claim)
    if sending is None or sending.kind != "pec":
        raise InvalidData(_l("Questo invio non è una PEC della pratica."), "sending")
    if sending.settled_at is not None:
        raise InvalidData(_l("La ricevuta di consegna di questa PEC è già registrata."), "sending")
    accepted = sending.accepted_at or _accepted_at(parts(sending.id))
    if accepted is None:
        raise InvalidData(_l("La PEC non è ancora partita: registra la ricevuta quando il messaggio è inviato."),
                          "sending")
    day = _date(delivered_on, "delivered_on", _l("Data della ricevuta di consegna"))
    if day < dates.to_rome(accepted).date():
        raise InvalidData(_l("La ricevuta di consegna non può precedere l'invio della PEC (%(day)s).",
                             day=dates.format_moment(accepted)), "delivered_on")
    how = f"PEC a {sending.address}, ricevuta di consegna del {day:%d/%m/%Y}"
    return _deliver(sending, day, user, how, {"receipt_recorded_by": user.id, "accepted_at": accepted})


def _id(value) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidData(_l("Scegli l'invio a cui si riferisce la ricevuta."), "sending") from None


def _deliver(sending: ClaimsOfficeSending, day: dt.date, actor: User | None, how: str, updates: dict) -> str:
    """Claim the sending and, in the same transaction, file the claim or note why not."""
    with db.atomic():
        claimed = (ClaimsOfficeSending.update(settled_at=utcnow(), delivered_on=day, **updates)
                   .where(ClaimsOfficeSending.id == sending.id, ClaimsOfficeSending.settled_at.is_null()).execute())
        if not claimed:
            return "done"  # another worker, or another click, settled it
        claim = Claim.get_by_id(sending.claim_id)
        if not sending.files_claim:  # documents added to a claim already filed: the receipt is kept
            if sending.kind == "pec":
                _note(claim, actor, f"Consegnata all'ufficio sinistri ({how}).")
            outcome = "delivered"
        elif claim.status != ClaimStatus.ASSIGNED:
            _note(claim, actor, f"Consegnata all'ufficio sinistri ({how}). La pratica non era più «Affidata» "
                                f"(ora «{ClaimStatus.LABELS[claim.status]}»): la data di ricezione non è stata "
                                "registrata da questo invio.")
            outcome = "noted"
        else:
            outcome = _file(claim, actor, day, how)
    notify.flush()
    log.info("claim %s: claims-office sending %s delivered on %s: %s", sending.claim_id, sending.id, day, outcome)
    return outcome


def _file(claim: Claim, actor: User | None, day: dt.date, how: str) -> str:
    note = f"Richiesta danni consegnata all'ufficio sinistri il {day:%d/%m/%Y} ({how})."
    try:
        if actor is None:
            raise NotAllowed(_l("Chi l'ha inviata non è più tra gli utenti."))
        engine.apply("file_claim", claim, actor, filed_on=day, procedure=claim.procedure, note=note)
    except (NotAllowed, InvalidData) as exc:  # the sender lost the file, or its data refuse it: said, not lost
        _note(claim, actor, f"{note} Non registrata in automatico ({exc.message}): registrala con "
                            f"«Registra invio richiesta danni», data {day:%d/%m/%Y}.")
        return "noted"
    return "filed"


def _note(claim: Claim, actor: User | None, note: str) -> None:
    StatusChange.create(claim=claim, at=utcnow(), actor=actor, actor_label=str(actor) if actor else "Gessin",
                        event=DELIVERED_EVENT, from_status=claim.status, to_status=claim.status, note=note)


def unsettled_ids(limit: int = SWEEP_BATCH) -> list[int]:
    """Sendings whose messages have all left but that were not settled (a worker stopped between
    marking the message sent and filing the claim), and PECs not yet marked sent."""
    messages = OutboundEmail.select(OutboundEmail.id).where(
        OutboundEmail.claims_office_sending == ClaimsOfficeSending.id)
    unsent = messages.where(OutboundEmail.status != "sent")
    query = (ClaimsOfficeSending.select(ClaimsOfficeSending.id)
             .where(ClaimsOfficeSending.settled_at.is_null(), pw.fn.EXISTS(messages), ~pw.fn.EXISTS(unsent),
                    (ClaimsOfficeSending.kind == "email") | ClaimsOfficeSending.accepted_at.is_null())
             .order_by(ClaimsOfficeSending.id).limit(limit))
    return [row.id for row in query]


def of_claim(claim: Claim, limit: int = 10) -> list[Sending]:
    """The claim's sendings, newest first, each with what became of it."""
    rows = list(claim.claims_office_sendings.order_by(ClaimsOfficeSending.id.desc()).limit(limit))
    told = []
    for row in rows:
        messages = parts(row.id)
        accepted = row.accepted_at or _accepted_at(messages)
        if row.settled_at is not None:
            state = "delivered"
        elif accepted is None:
            state = "waiting"
        elif row.kind == "pec":
            state = "pec_sent"
        else:
            state = "accepted"  # its e-mail accepted: the worker, or its sweep, is filing the claim
        error = next((m.last_error for m in messages if m.status != "sent" and m.last_error), None)
        told.append(Sending(row, state, accepted, error))
    return told
