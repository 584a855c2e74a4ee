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
# The insurer asks for missing items within 30 days of receiving the claim (art. 148 c.5 CdA,
# DPR 254/2006 art. 7), counted as every other term: a later request moves nothing.
REQUEST_WITHIN = 30
# The insurer's anti-fraud communication (art. 148 c.2-bis CdA): its conclusions within 30 days.
FRAUD_CHECK_DAYS = 30
# An offer the claimant leaves unanswered (art. 148 c.8 CdA): paid once 30 days have run, within 15.
UNANSWERED_DAYS, PAYMENT_DAYS = 30, 15
PRESCRIPTION_YEARS = 2  # art. 2947 c.2 c.c.; longer when the fact is also a crime (c.3)


@dataclass(frozen=True)
class Term:
    due: dt.date | None
    basis: str
    kind: str = ""


@dataclass(frozen=True)
class Suspension:
    """A stretch of days in which a term does not run: from `start` (the first day not
    counted) to `end` (None: not over yet), and why, as the basis says it."""

    start: dt.date
    end: dt.date | None
    why: str


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

def offer_days(*, signed_by_both: bool, personal_injury: bool) -> tuple[int, str]:
    """30, 60 or 90 days (art. 148 c.1-2 CdA), and why; a claim for personal injury wins over signatures."""
    if personal_injury:
        return 90, " (la richiesta comprende danni alla persona, art. 148 c.2 CdA)"
    if signed_by_both:
        return 30, " (modulo blu firmato da entrambi i conducenti, art. 148 c.1 CdA)"
    return 60, " (art. 148 c.1 CdA)"


def request_window(received_on: dt.date) -> tuple[dt.date, str]:
    """The last day the insurer may ask for missing items: 30 days from the claim's receipt,
    counted as every term (a last day on a Sunday or holiday moves to the next working day)."""
    return add_days(received_on, REQUEST_WITHIN)


def request_in_time(received_on: dt.date, requested_on: dt.date) -> bool:
    return requested_on <= request_window(received_on)[0]


def _paused_days(spans: list[tuple[dt.date, dt.date]], after: dt.date) -> int:
    """Days in the union of `spans` (each from its first day not counted to its last day
    suspended) that fall after `after`: overlapping suspensions count once."""
    days: set[dt.date] = set()
    for start, end in spans:
        first = max(start, after) + dt.timedelta(days=1)
        days.update(first + dt.timedelta(days=n) for n in range((end - first).days + 1))
    return len(days)


def offer_due(received_on: dt.date, *, signed_by_both: bool, personal_injury: bool, procedure: str = ORDINARY,
              missing_requested_on: dt.date | None = None, missing_received_on: dt.date | None = None,
              suspensions: Iterable[Suspension] = (), fraud_check_on: dt.date | None = None) -> Term:
    """The insurer's reasoned offer, or its motivated refusal to make one (art. 148-149 CdA).

    Every date is the day something reached its addressee. When the insurer asked for
    missing items in time (`request_in_time`): under direct compensation the term is
    suspended from the request to the day they reached it (DPR 254/2006 art. 7); under the
    ordinary procedure the whole term starts again from that day (art. 148 c.5). The
    claimant's refusal of the inspection or of the medical examination suspends it too
    (art. 148 c.3). An anti-fraud communication within the term gives the insurer 30 days
    from it for its conclusions (art. 148 c.2-bis), never less than the term itself.
    """
    if procedure not in PROCEDURES:
        raise ValueError(f"unknown procedure {procedure!r}")
    days, why = offer_days(signed_by_both=signed_by_both, personal_injury=personal_injury)
    head = f"{days} giorni dalla ricezione della richiesta danni ({_d(received_on)}){why}"
    start, spans, parts = received_on, [], [head]
    if missing_requested_on is not None:
        if missing_requested_on < received_on:
            raise ValueError("the request for missing items precedes the damage claim")
        if missing_received_on is not None and missing_received_on < missing_requested_on:
            raise ValueError("the missing items arrived before they were asked for")
        window, _ = request_window(received_on)
        if missing_requested_on > window:
            parts.append(f"la richiesta di integrazione del {_d(missing_requested_on)} è arrivata oltre i "
                         f"{REQUEST_WITHIN} giorni (ultimo giorno utile il {_d(window)}) e non sospende né fa "
                         "ripartire il termine")
        elif missing_received_on is None:
            words = ("sospeso dal {} per integrazione documenti (DPR 254/2006 art. 7): riprende a decorrere quando "
                     "l'integrazione arriva alla compagnia, ricezione non ancora registrata") if procedure == DIRECT                 else ("il {} la compagnia ha chiesto un'integrazione documenti: nella procedura ordinaria il termine "
                      "ricomincia da capo dal giorno in cui l'integrazione arriva alla compagnia (art. 148 c.5 CdA), "
                      "ricezione non ancora registrata")
            return Term(None, f"{head}; {words.format(_d(missing_requested_on))}", OFFER)
        elif procedure == DIRECT:
            spans.append((missing_requested_on, missing_received_on))
            parts.append(f"sospeso dal {_d(missing_requested_on)} al {_d(missing_received_on)} per integrazione "
                         "documenti (DPR 254/2006 art. 7)")
        else:
            start = missing_received_on
            parts = [f"{days} giorni{why} dalla ricezione dell'integrazione documenti ({_d(missing_received_on)}), "
                     f"chiesta dalla compagnia il {_d(missing_requested_on)}: nella procedura ordinaria il termine "
                     "ricomincia da capo (art. 148 c.5 CdA)"]
    for pause in sorted(suspensions, key=lambda p: p.start):
        if pause.start > add_days(start, days + _paused_days(spans, start))[0]:
            parts.append(f"il {_d(pause.start)}, per {pause.why}, il termine era già scaduto: non si sospende")
            continue
        if pause.end is None:
            return Term(None, "; ".join(parts + [f"sospeso dal {_d(pause.start)} per {pause.why}: riprende a "
                                                 "decorrere quando cessa"]), OFFER)
        spans.append((pause.start, pause.end))
        parts.append(f"sospeso dal {_d(pause.start)} al {_d(pause.end)} per {pause.why}")
    due, tail = add_days(start, days + _paused_days(spans, start))
    if fraud_check_on is not None:
        if fraud_check_on > due:
            parts.append(f"la comunicazione antifrode del {_d(fraud_check_on)} è successiva al termine e non lo "
                         "sposta")
        else:
            checked, checked_tail = add_days(fraud_check_on, FRAUD_CHECK_DAYS)
            if checked > due:
                due, tail = checked, checked_tail
                parts.append(f"il {_d(fraud_check_on)} la compagnia ha comunicato un approfondimento antifrode "
                             f"(art. 148 c.2-bis CdA): le sue determinazioni sono dovute entro {FRAUD_CHECK_DAYS} "
                             "giorni dalla comunicazione")
    return Term(due, "; ".join(parts) + tail, OFFER)


def payment_due(answered_on: dt.date, received_on: dt.date | None) -> Term:
    """Payment within 15 days of the day the claimant's acceptance, or refusal, of the offer
    reached the insurer (art. 148 c.6-7 CdA); None while that day is not known."""
    if received_on is None:
        return Term(None, f"risposta all'offerta inviata il {_d(answered_on)}, in attesa di ricevuta: i "
                          f"{PAYMENT_DAYS} giorni per il pagamento decorrono da quando la compagnia la riceve "
                          "(art. 148 c.6 CdA)", PAYMENT)
    due, tail = add_days(received_on, PAYMENT_DAYS)
    return Term(due, f"{PAYMENT_DAYS} giorni dalla ricezione della risposta all'offerta da parte della compagnia "
                     f"({_d(received_on)}, inviata il {_d(answered_on)}; art. 148 c.6 CdA){tail}", PAYMENT)


def payment_if_unanswered(offered_on: dt.date) -> Term:
    """An offer the claimant leaves unanswered: once 30 days from it have run, the insurer
    pays the sum offered within 15 days (art. 148 c.8 CdA)."""
    silent, _ = add_days(offered_on, UNANSWERED_DAYS)
    due, tail = add_days(silent, PAYMENT_DAYS)
    return Term(due, f"offerta del {_d(offered_on)} senza risposta: decorsi {UNANSWERED_DAYS} giorni (il "
                     f"{_d(silent)}) la compagnia corrisponde la somma offerta entro {PAYMENT_DAYS} giorni "
                     f"(art. 148 c.8 CdA){tail}", PAYMENT)


def suit_allowed_from(received_on: dt.date, *, personal_injury: bool, offer: Term | None = None) -> Term:
    """The first day the claimant may sue: once 60 days (90 for personal injury) from the
    claim letter's receipt have fully run (art. 145 CdA), i.e. the day after the term's
    (moved) last day; after an in-time request for missing items or a suspension, not
    before the offer term as restarted or suspended (`offer`) has run too.

    The day after, not the last day itself: a writ served on the 60th day would be early.
    """
    days = 90 if personal_injury else 60
    end, tail = add_days(received_on, days)
    basis = (f"azione in giudizio possibile decorsi {days} giorni dalla ricezione della richiesta danni "
             f"({_d(received_on)}, art. 145 CdA), cioè dal giorno dopo il {_d(end)}{tail}")
    if offer is not None:
        if offer.due is None:
            return Term(None, f"{basis}; e non prima che sia decorso il termine per l'offerta, sospeso o da far "
                              "ripartire: data da stabilire", SUIT)
        if offer.due > end:
            return Term(offer.due + dt.timedelta(days=1),
                        f"{basis}; e non prima che sia decorso il termine per l'offerta, ripartito o sospeso, "
                        f"che scade il {_d(offer.due)}: dal {_d(offer.due + dt.timedelta(days=1))}", SUIT)
    return Term(end + dt.timedelta(days=1), basis, SUIT)


def prescription(accident_on: dt.date, *, demands: Iterable[dt.date] = (), years: int | None = None,
                 reason: str | None = None) -> Term:
    """Two years from the accident (art. 2947 c.2 c.c.), or the longer term the lawyer chose
    because the fact is also a crime (c.3, `years` with its `reason`); every written demand
    that reached the insurer (`demands`: days of receipt, the claim letter's included)
    interrupts it and the same term starts again from it (art. 2943 c.4, 2945 c.1 c.c.).
    The chain is read in order, each demand against the term running when it arrived: one
    that arrived after the right had prescribed interrupts nothing, and is said so."""
    years = years or PRESCRIPTION_YEARS
    what = f"{years} anni"
    if years == PRESCRIPTION_YEARS:
        basis = f"{what} dal sinistro ({_d(accident_on)}, art. 2947 c.2 c.c.)"
    else:
        basis = f"{what} dal sinistro ({_d(accident_on)}): il fatto è anche reato (art. 2947 c.3 c.c.)" \
            + (f": {reason}" if reason else "")
    due, tail = add_years(accident_on, years)
    chain = []
    for day in sorted(set(demands)):
        if day < accident_on:
            raise ValueError("a demand precedes the accident")
        if day > due:
            return Term(due, f"{basis}{_chain(chain)}{tail}; la richiesta ricevuta il {_d(day)} è successiva alla "
                             "prescrizione e non ha effetto", PRESCRIPTION)
        chain.append(day)
        due, tail = add_years(day, years)
    return Term(due, f"{basis}{_chain(chain)}{tail}", PRESCRIPTION)


def _chain(days: list[dt.date]) -> str:
    if not days:
        return ""
    listed = ", ".join(_d(day) for day in days)
    words = "dalla richiesta ricevuta dalla compagnia il" if len(days) == 1 else \
        "dalle richieste ricevute dalla compagnia il"
    return f"; interrotta {words} {listed} (art. 2943 c.4 e 2945 c.1 c.c.): il termine decorre di nuovo " \
           f"dal {_d(days[-1])}"
