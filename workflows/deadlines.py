"""The legal terms of a motor-insurance claim (D.Lgs. 209/2005, CdA), one function each.

Every function is plain arithmetic on dates and returns a `Term`: the day it falls due
(None when it cannot be known yet) and the Italian sentence that explains it, written
as it goes on the file (like the history notes), whatever the user's language.

The counting rule lives in `add_days` and `add_years` (art. 2963 c.c.): calendar days,
the first day not counted; a term in years ends on the same day of the month (the
month's last day when that day does not exist, 29 February); a last day that is a
Sunday or an Italian public holiday moves to the next day that is neither. Saturday is
an ordinary day. The holidays are those of the `holidays` package (national ones only,
4 October included from 2026), never a list of ours.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import holidays

DIRECT, ORDINARY = "direct", "ordinary"
PROCEDURES = (DIRECT, ORDINARY)
SHIFTED = "scadenza spostata al primo giorno non festivo"

# Kinds of term, as stored in `Claim.next_due_kind` (with "queue" for a work-queue limit).
OFFER, PAYMENT, SUIT, PRESCRIPTION = "offer", "payment", "suit", "prescription"
# The insurer asks for missing items within 30 days of the claim (art. 148 c.5 CdA,
# DPR 254/2006 art. 7): a later request moves nothing.
REQUEST_WITHIN = 30


@dataclass(frozen=True)
class Term:
    due: dt.date | None
    basis: str
    kind: str = ""


def _d(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


@lru_cache(maxsize=64)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("IT", years=year, language="it_IT")


def closed_reason(day: dt.date) -> str | None:
    """Why `day` is not a working day for a term ("domenica", "festivo (Natale)"), else None."""
    if day.weekday() == 6:
        return "domenica"
    name = _holidays(day.year).get(day)
    return f"festivo ({name})" if name else None


def next_open_day(day: dt.date) -> dt.date:
    """`day`, or the first day after it that is neither a Sunday nor a public holiday."""
    while closed_reason(day):
        day += dt.timedelta(days=1)
    return day


@lru_cache(maxsize=8192)  # a batch of claims meets the same days again and again
def _ending(last: dt.date) -> tuple[dt.date, str]:
    """The due day of a term whose last counted day is `last`, and what the basis adds."""
    due = next_open_day(last)
    if due == last:
        return due, ""
    return due, f"; il {_d(last)} è {closed_reason(last)}: {SHIFTED}"


def add_days(start: dt.date, days: int) -> tuple[dt.date, str]:
    """A term of `days` calendar days from `start` (not counted), moved past a Sunday or holiday."""
    return _ending(start + dt.timedelta(days=days))


def add_years(start: dt.date, years: int) -> tuple[dt.date, str]:
    """A term of `years` years from `start`: the same day, or the month's last (29 February)."""
    year = start.year + years
    last_day = calendar.monthrange(year, start.month)[1]
    if start.day <= last_day:
        return _ending(start.replace(year=year))
    end = dt.date(year, start.month, last_day)
    due, tail = _ending(end)
    return due, f"; il {start.day:02d}/{start.month:02d} non esiste nel {year}: ultimo giorno del mese{tail}"


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday and no public holiday: how the call centre counts its queue limits
    when it chooses working days (they are not law, so not art. 2963 c.c.'s rule)."""
    return day.weekday() < 5 and day not in _holidays(day.year)


@lru_cache(maxsize=8192)  # as `_ending`: the claims of a batch share their days
def add_working_days(start: dt.date, days: int) -> dt.date:
    """The `days`-th working day after `start` (not counted); `start` itself for 0."""
    day = start
    while days > 0:
        day += dt.timedelta(days=1)
        days -= is_working_day(day)
    return day


# ---- the terms -----------------------------------------------------------------------

def offer_days(*, signed_by_both: bool, injuries: bool) -> tuple[int, str]:
    """30, 60 or 90 days (art. 148 c.1-2 CdA), and why; injuries win over signatures."""
    if injuries:
        return 90, " (con feriti)"
    if signed_by_both:
        return 30, " (modulo blu firmato da entrambi i conducenti)"
    return 60, ""


def offer_due(received_on: dt.date, *, signed_by_both: bool, injuries: bool, procedure: str = ORDINARY,
              missing_requested_on: dt.date | None = None, missing_received_on: dt.date | None = None) -> Term:
    """The insurer's reasoned offer, or its reasons for making none (art. 148-149 CdA).

    When the insurer asked for missing items (within 30 days, else the request moves
    nothing): under direct compensation the term is suspended from the request to the
    day they arrive (DPR 254/2006 art. 7); under the ordinary procedure the whole term
    starts again from that day.
    """
    if procedure not in PROCEDURES:
        raise ValueError(f"unknown procedure {procedure!r}")
    days, why = offer_days(signed_by_both=signed_by_both, injuries=injuries)
    head = f"{days} giorni dalla ricezione della richiesta danni ({_d(received_on)}){why}"
    if missing_requested_on is None:
        due, tail = add_days(received_on, days)
        return Term(due, head + tail, OFFER)
    if missing_requested_on < received_on:
        raise ValueError("the request for missing items precedes the damage claim")
    if missing_received_on is not None and missing_received_on < missing_requested_on:
        raise ValueError("the missing items arrived before they were asked for")
    if (missing_requested_on - received_on).days > REQUEST_WITHIN:
        due, tail = add_days(received_on, days)
        return Term(due, f"{head}; la richiesta di integrazione del {_d(missing_requested_on)} è arrivata oltre "
                         f"i {REQUEST_WITHIN} giorni e non sospende né fa ripartire il termine{tail}", OFFER)
    if procedure == DIRECT:
        if missing_received_on is None:
            return Term(None, f"{head}, sospeso dal {_d(missing_requested_on)} per integrazione documenti: "
                              "riprende a decorrere quando arrivano i documenti richiesti", OFFER)
        pause = (missing_received_on - missing_requested_on).days
        due, tail = add_days(received_on, days + pause)
        return Term(due, f"{head}, sospeso dal {_d(missing_requested_on)} al {_d(missing_received_on)} "
                         f"per integrazione documenti{tail}", OFFER)
    if missing_received_on is None:
        return Term(None, f"{head}; il {_d(missing_requested_on)} la compagnia ha chiesto un'integrazione "
                          "documenti: nella procedura ordinaria il termine ricomincia da capo quando arrivano",
                    OFFER)
    due, tail = add_days(missing_received_on, days)
    return Term(due, f"{days} giorni{why} dall'arrivo dell'integrazione documenti ({_d(missing_received_on)}), "
                     f"chiesta dalla compagnia il {_d(missing_requested_on)}: nella procedura ordinaria il termine "
                     f"ricomincia da capo{tail}", OFFER)


def payment_due(answered_on: dt.date) -> Term:
    """Payment within 15 days of the claimant's acceptance or refusal of the offer (art. 148 CdA)."""
    due, tail = add_days(answered_on, 15)
    return Term(due, f"15 giorni dalla risposta all'offerta ({_d(answered_on)}){tail}", PAYMENT)


def suit_allowed_from(received_on: dt.date, *, injuries: bool) -> Term:
    """The first day the claimant may sue: once 60 days (90 with injuries) from the claim
    letter have fully run (art. 145 CdA), i.e. the day after the term's (moved) last day.

    The day after, not the last day itself: a writ served on the 60th day would be early.
    """
    days = 90 if injuries else 60
    end, tail = add_days(received_on, days)
    return Term(end + dt.timedelta(days=1),
                f"azione in giudizio possibile decorsi {days} giorni dalla ricezione della richiesta danni "
                f"({_d(received_on)}), cioè dal giorno dopo il {_d(end)}{tail}", SUIT)


def prescription(accident_on: dt.date, *, interruptions: Iterable[dt.date] = ()) -> Term:
    """Two years from the accident (art. 2947 c.2 c.c.), or from the last interruption
    (a registered letter or PEC to the insurer, art. 2943); an interruption sent when
    the right had already prescribed interrupts nothing and is said so."""
    due, tail = add_years(accident_on, 2)
    basis = f"2 anni dal sinistro ({_d(accident_on)}){tail}"
    for day in sorted(set(interruptions)):
        if day < accident_on:
            raise ValueError("an interruption precedes the accident")
        if day > due:
            return Term(due, f"{basis}; l'interruzione del {_d(day)} è successiva alla prescrizione "
                             "e non ha effetto", PRESCRIPTION)
        due, tail = add_years(day, 2)
        basis = f"2 anni dall'ultima interruzione della prescrizione ({_d(day)}){tail}"
    return Term(due, basis, PRESCRIPTION)
