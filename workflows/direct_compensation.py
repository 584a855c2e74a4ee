"""The portal's own first assessment of direct compensation (indennizzo diretto, art. 149 CdA).

`assess` is a pure function over `Facts`, so the intake API can call it before a
Claim exists and the claim page can call it on a saved one (`facts_from_claim`).
Its verdict is three-valued: True (direct compensation applies), False (ordinary
procedure, art. 148) or None (cannot say yet: the reason lists what is missing).

The rule (D.Lgs. 209/2005 art. 149, DPR 254/2006, CARD convention): exactly two
motor vehicles collided, both identified by a plate of Italy, San Marino or the
Vatican and insured (an insurer is named for each); the damage is to the vehicles
and the goods carried; any injury is only to the driver of vehicle A (the
customer's, not at fault) and is a minor one (permanent disability up to 9%,
art. 139). Injured passengers claim under art. 141 from the insurer of the vehicle
they were in, with the art. 148 procedure: their injuries do not take the vehicle's
claim out of direct compensation (DOMAIN.md), and the reason says where they claim.
Where it applies, the procedure is optional for the damaged party (Corte
costituzionale 180/2009).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from models import Claim

# Plates the CARD convention treats as Italian: Italy, San Marino, Vatican City.
COUNTRY_NAMES = {
    "I": _l("Italia"), "IT": _l("Italia"),
    "RSM": _l("San Marino"), "SM": _l("San Marino"),
    "V": _l("Città del Vaticano"), "VA": _l("Città del Vaticano"),
}
MINOR_INJURY_LIMIT = Decimal(9)  # permanent disability, percent (art. 139 CdA)

APPLIES = _l("Indennizzo diretto (art. 149 CdA)")
OPTIONAL = _l("Procedura facoltativa per il danneggiato (C. Cost. 180/2009).")
ORDINARY = _l("Procedura ordinaria (art. 148 CdA)")
UNKNOWN = _l("Indennizzo diretto da verificare, dati mancanti")


@dataclass(frozen=True)
class Facts:
    """What the assessment needs; None means "not known yet".

    Vehicle A is the customer's (the damaged party), vehicle B the other party's.
    A country of None counts as Italy, as in `models.validators.plate`.

    Passengers are read apart from the other injured, since they claim under art. 141:
    with passengers hurt, `injured_driver_a_only` False says no more than that the driver
    of A is not the only one hurt (the passengers are), so A's driver counts as hurt only
    when it is True or a disability is given for him.
    """

    vehicle_count: int | None = 2
    plate_a: str | None = None
    country_a: str | None = "I"
    plate_b: str | None = None
    country_b: str | None = "I"
    insurer_a_known: bool = False
    insurer_b_known: bool = False
    injuries: bool | None = False
    injured_driver_a_only: bool | None = None  # True: the only injured person is A's driver
    passengers_injured: bool | None = None
    disability_pct: Decimal | None = None  # permanent disability of A's driver, percent


@dataclass(frozen=True)
class Verdict:
    applies: bool | None
    reason: str  # one Italian sentence for the clerk, citing the article
    basis: list[str] = field(default_factory=list)  # the findings the reason is made of


def assess(facts: Facts) -> Verdict:
    """Exclusions decide first (False), then missing data (None), else it applies."""
    exclusions = _exclusions(facts)
    if exclusions:
        return _verdict(False, ORDINARY, exclusions)
    missing = _missing(facts)
    if missing:
        return _verdict(None, UNKNOWN, missing)
    return _verdict(True, APPLIES, [_vehicles_finding(facts), _injury_finding(facts)], OPTIONAL)


def _verdict(applies, heading, findings, tail=None) -> Verdict:
    basis = [str(item) for item in findings]
    reason = f"{heading}: {'; '.join(basis)}."
    if tail is not None:
        reason += f" {tail}"
    return Verdict(applies, reason, basis)


def _country(value: str | None) -> str:
    return (value or "I").strip().upper() or "I"


def _is_italian(country: str | None) -> bool:
    return _country(country) in COUNTRY_NAMES


def _exclusions(facts: Facts) -> list:
    found = []
    if facts.vehicle_count == 1:
        found.append(_l("un solo veicolo coinvolto (l'indennizzo diretto richiede lo scontro tra due veicoli)"))
    elif (facts.vehicle_count or 0) > 2:
        found.append(_l("%(count)d veicoli coinvolti (l'indennizzo diretto vale solo tra due veicoli)",
                        count=facts.vehicle_count))
    for side, country in (("A", facts.country_a), ("B", facts.country_b)):
        if not _is_italian(country):
            found.append(_l("veicolo %(side)s con targa estera (%(country)s)", side=side, country=_country(country)))
    if facts.injuries:
        found += _injury_exclusions(facts)
    return found


def _injury_exclusions(facts: Facts) -> list:
    """Someone hurt besides A's driver and the passengers, or A's driver beyond a minor injury."""
    if facts.injured_driver_a_only is False and facts.passengers_injured is False:
        return [_l("feriti diversi dal conducente del veicolo A e dai trasportati")]
    pct = facts.disability_pct
    if pct is not None and Decimal(pct) > MINOR_INJURY_LIMIT:
        return [_l("conducente del veicolo A con invalidità permanente del %(pct)s%%, oltre il limite "
                   "del 9%% delle lesioni lievi (art. 139 CdA)", pct=_pct(pct))]
    return []


def _driver_a_hurt(facts: Facts) -> bool | None:
    """Is A's driver among the injured (None: not known)? Passengers apart (see `Facts`)."""
    if facts.injured_driver_a_only or facts.disability_pct is not None:
        return True
    if facts.passengers_injured and facts.injured_driver_a_only is False:
        return False
    return None


def _missing(facts: Facts) -> list:
    found = []
    if facts.vehicle_count is None or facts.vehicle_count < 1:
        found.append(_l("manca il numero dei veicoli coinvolti"))
    for side, plate, insurer_known in (("A", facts.plate_a, facts.insurer_a_known),
                                       ("B", facts.plate_b, facts.insurer_b_known)):
        if not (plate or "").strip():
            found.append(_l("manca la targa del veicolo %(side)s", side=side))
        if not insurer_known:
            found.append(_l("manca la compagnia del veicolo %(side)s", side=side))
    if facts.injuries is None:
        found.append(_l("manca l'indicazione se ci sono feriti"))
    elif facts.injuries:
        found += _injury_missing(facts)
    return found


def _injury_missing(facts: Facts) -> list:
    if facts.injured_driver_a_only is False and facts.passengers_injured is None:
        return [_l("manca se i feriti diversi dal conducente del veicolo A sono solo passeggeri trasportati "
                   "(che chiedono il risarcimento ai sensi dell'art. 141 CdA)")]
    hurt = _driver_a_hurt(facts)
    if hurt is None:
        return [_l("manca chi è ferito (solo il conducente del veicolo A o anche altri)")]
    if hurt and facts.disability_pct is None:
        return [_l("manca la percentuale di invalidità permanente del conducente del veicolo A")]
    return []


def _vehicles_finding(facts: Facts):
    if _country(facts.country_a) in ("I", "IT") and _country(facts.country_b) in ("I", "IT"):
        return _l("due veicoli a motore, entrambi con targa italiana e assicurati presso compagnie italiane")
    return _l("due veicoli a motore, con targhe equiparate alle italiane (veicolo A: %(a)s, veicolo B: %(b)s) "
              "e assicurati presso compagnie italiane",
              a=COUNTRY_NAMES[_country(facts.country_a)], b=COUNTRY_NAMES[_country(facts.country_b)])


def _injury_finding(facts: Facts):
    if not facts.injuries:
        return _l("nessun ferito")
    passengers = _l("passeggeri trasportati feriti, che chiedono il risarcimento alla compagnia del veicolo su cui "
                    "viaggiavano ai sensi dell'art. 141 CdA, senza escludere l'indennizzo diretto per il veicolo")
    if not _driver_a_hurt(facts):
        return passengers
    driver = _l("ferito il conducente del veicolo A, con lesioni lievi (invalidità permanente del %(pct)s%%, "
                "entro il 9%% dell'art. 139 CdA)", pct=_pct(facts.disability_pct))
    if facts.passengers_injured:
        return f"{driver}; {passengers}"
    return _l("ferito solo il conducente del veicolo A, con lesioni lievi (invalidità permanente del %(pct)s%%, "
              "entro il 9%% dell'art. 139 CdA)", pct=_pct(facts.disability_pct))


def _pct(value) -> str:
    """5 -> "5", Decimal("7.5") -> "7,5": Italian decimal comma, no trailing zeros."""
    text = format(Decimal(value).normalize(), "f")
    return text.replace(".", ",")


def facts_from_claim(claim: Claim) -> Facts:
    """The facts a claim row holds; works on an unsaved Claim too.

    `Claim.injuries` is the Modulo Blu's fact (someone was hurt in the accident), not
    whether this request claims personal injury. Every insurer in the
    portal's table is taken as an Italian (or Italy-authorised) one, and so is a name
    WinCar sent that the call centre has not mapped to the table yet: the vehicle is
    insured all the same (`workflows.insurers`).
    """
    return Facts(
        vehicle_count=claim.vehicle_count,
        plate_a=claim.vehicle_a_plate, country_a=claim.vehicle_a_country,
        plate_b=claim.vehicle_b_plate, country_b=claim.vehicle_b_country,
        insurer_a_known=claim.vehicle_a_insurer_id is not None or bool(claim.vehicle_a_insurer_name),
        insurer_b_known=claim.vehicle_b_insurer_id is not None or bool(claim.vehicle_b_insurer_name),
        injuries=claim.injuries,
        injured_driver_a_only=getattr(claim, "injured_driver_a_only", None),
        passengers_injured=getattr(claim, "passengers_injured", None),
        disability_pct=getattr(claim, "disability_pct", None),
    )


def apply_verdict(claim: Claim) -> tuple[bool | None, str]:
    """Set claim.direct_compensation and its reason (without saving) and return them.

    The reason is stored in Italian whatever the current user's language: it is part
    of the file, like the history notes. To show it in another language, render
    `assess(facts_from_claim(claim)).reason` instead.
    """
    with force_locale("it"):
        verdict = assess(facts_from_claim(claim))
    claim.direct_compensation = verdict.applies
    claim.direct_compensation_reason = verdict.reason
    return verdict.applies, verdict.reason
