"""The first assessment of direct compensation (art. 149 CdA): every rule and its reason."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from flask import session

from models import Claim
from workflows.direct_compensation import (
    Facts,
    Verdict,
    apply_verdict,
    assess,
    facts_from_claim,
)

# Two Italian cars, both identified and insured, nobody hurt: the plain CARD case.
TWO_ITALIAN_CARS = Facts(vehicle_count=2, plate_a="AB123CD", country_a="I", plate_b="EF456GH", country_b="I",
                         insurer_a_known=True, insurer_b_known=True, injuries=False)
DRIVER_A_HURT = {"injuries": True, "injured_driver_a_only": True, "passengers_injured": False}

CASES = [
    # (case, changes to TWO_ITALIAN_CARS, applies, words the reason must hold)
    ("two Italian cars, no injuries", {}, True,
     ["Indennizzo diretto (art. 149 CdA)", "entrambi con targa italiana", "nessun ferito",
      "facoltativa", "180/2009"]),
    ("country IT counts as Italy", {"country_a": "IT", "country_b": "it"}, True, ["entrambi con targa italiana"]),
    ("no country given counts as Italy", {"country_a": None, "country_b": ""}, True, ["art. 149"]),
    ("three vehicles", {"vehicle_count": 3}, False,
     ["Procedura ordinaria (art. 148 CdA)", "3 veicoli coinvolti"]),
    ("a single vehicle", {"vehicle_count": 1}, False, ["art. 148", "un solo veicolo"]),
    ("foreign plate on vehicle B", {"country_b": "D"}, False,
     ["Procedura ordinaria (art. 148 CdA)", "veicolo B con targa estera (D)"]),
    ("foreign plate on vehicle A", {"country_a": "F"}, False, ["veicolo A con targa estera (F)"]),
    ("San Marino plate counts as Italian", {"country_b": "RSM"}, True,
     ["art. 149", "veicolo B: San Marino", "180/2009"]),
    ("San Marino by ISO code", {"country_a": "SM"}, True, ["veicolo A: San Marino"]),
    ("Vatican plate counts as Italian", {"country_a": "V"}, True, ["veicolo A: Città del Vaticano"]),
    ("Vatican by ISO code", {"country_b": "VA"}, True, ["veicolo B: Città del Vaticano"]),
    ("insurer of B missing", {"insurer_b_known": False}, None, ["manca la compagnia del veicolo B"]),
    ("insurer of A missing", {"insurer_a_known": False}, None, ["manca la compagnia del veicolo A"]),
    ("plate of A missing", {"plate_a": None}, None, ["manca la targa del veicolo A"]),
    ("plate of B blank", {"plate_b": "  "}, None, ["manca la targa del veicolo B"]),
    ("number of vehicles missing", {"vehicle_count": None}, None, ["manca il numero dei veicoli coinvolti"]),
    ("not known whether anyone is hurt", {"injuries": None}, None, ["manca l'indicazione se ci sono feriti"]),
    # Passengers claim under art. 141: their injuries leave the vehicle's claim in direct compensation.
    ("only passengers hurt", {"injuries": True, "passengers_injured": True, "injured_driver_a_only": False}, True,
     ["Indennizzo diretto (art. 149 CdA)", "passeggeri trasportati feriti", "art. 141 CdA",
      "senza escludere l'indennizzo diretto", "180/2009"]),
    ("passengers and A's driver hurt, disability 5%", {**DRIVER_A_HURT, "passengers_injured": True,
                                                       "disability_pct": Decimal(5)}, True,
     ["ferito il conducente del veicolo A", "del 5%", "passeggeri trasportati feriti", "art. 141 CdA"]),
    ("passengers hurt, A's driver beyond the minor-injury limit",
     {"injuries": True, "passengers_injured": True, "injured_driver_a_only": False, "disability_pct": Decimal(12)},
     False, ["art. 148", "invalidità permanente del 12%"]),
    ("passengers hurt, not known who else", {"injuries": True, "passengers_injured": True}, None,
     ["manca chi è ferito"]),
    ("someone besides A's driver and the passengers hurt",
     {"injuries": True, "injured_driver_a_only": False, "passengers_injured": False}, False,
     ["art. 148", "feriti diversi dal conducente del veicolo A e dai trasportati"]),
    ("others hurt, not known whether only passengers", {"injuries": True, "injured_driver_a_only": False}, None,
     ["manca se i feriti diversi dal conducente del veicolo A sono solo passeggeri trasportati", "art. 141 CdA"]),
    ("A's driver hurt, disability 5%", {**DRIVER_A_HURT, "disability_pct": Decimal(5)}, True,
     ["art. 149", "ferito solo il conducente del veicolo A", "del 5%", "art. 139", "180/2009"]),
    ("A's driver hurt, disability exactly 9%", {**DRIVER_A_HURT, "disability_pct": Decimal(9)}, True, ["del 9%"]),
    ("A's driver hurt, disability 7.5%", {**DRIVER_A_HURT, "disability_pct": Decimal("7.50")}, True, ["del 7,5%"]),
    ("A's driver hurt, disability 12%", {**DRIVER_A_HURT, "disability_pct": Decimal(12)}, False,
     ["art. 148", "invalidità permanente del 12%", "oltre il limite del 9%", "art. 139"]),
    ("A's driver hurt, disability not known", DRIVER_A_HURT, None,
     ["manca la percentuale di invalidità permanente del conducente del veicolo A"]),
    ("injuries, but not known who", {"injuries": True}, None, ["manca chi è ferito"]),
]


@pytest.mark.parametrize("changes, applies, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_gives_its_verdict_and_reason(changes, applies, words):
    verdict = assess(replace(TWO_ITALIAN_CARS, **changes))
    assert verdict.applies is applies, verdict.reason
    for word in words:
        assert word in verdict.reason
    assert isinstance(verdict.reason, str) and verdict.reason.endswith(".")
    assert verdict.basis and all(isinstance(item, str) for item in verdict.basis)


def test_the_optional_note_goes_only_with_a_positive_verdict():
    assert "180/2009" not in assess(replace(TWO_ITALIAN_CARS, country_b="D")).reason
    assert "180/2009" not in assess(replace(TWO_ITALIAN_CARS, plate_a=None)).reason


def test_all_exclusions_are_listed_together():
    verdict = assess(replace(TWO_ITALIAN_CARS, vehicle_count=3, country_b="CH"))
    assert verdict == Verdict(False, "Procedura ordinaria (art. 148 CdA): 3 veicoli coinvolti (l'indennizzo "
                                     "diretto vale solo tra due veicoli); veicolo B con targa estera (CH).",
                              ["3 veicoli coinvolti (l'indennizzo diretto vale solo tra due veicoli)",
                               "veicolo B con targa estera (CH)"])


def test_an_exclusion_outweighs_missing_data():
    verdict = assess(replace(TWO_ITALIAN_CARS, country_b="D", insurer_b_known=False, plate_a=None))
    assert verdict.applies is False
    assert "manca" not in verdict.reason


def test_every_missing_item_is_listed():
    verdict = assess(Facts(vehicle_count=2, injuries=True))
    assert verdict.applies is None
    assert verdict.basis == [
        "manca la targa del veicolo A", "manca la compagnia del veicolo A",
        "manca la targa del veicolo B", "manca la compagnia del veicolo B",
        "manca chi è ferito (solo il conducente del veicolo A o anche altri)",
    ]
    assert verdict.reason.startswith("Indennizzo diretto da verificare, dati mancanti: manca la targa del veicolo A; ")


# ---- on claim rows --------------------------------------------------------------------


@pytest.fixture
def parties(f):
    return {"repairer": f.repairer(), "centre": f.centre(), "insurer_a": f.insurer(), "insurer_b": f.insurer()}


def _claim(f, parties, **fields):
    data = {"vehicle_a_plate": "AB123CD", "vehicle_b_plate": "ef 456 gh",
            "vehicle_a_insurer": parties["insurer_a"], "vehicle_b_insurer": parties["insurer_b"]}
    data.update(fields)
    return f.claim(parties["repairer"], parties["centre"], **data)


def test_facts_from_a_saved_claim(f, parties):
    claim = Claim.get_by_id(_claim(f, parties, vehicle_b_country="RSM", vehicle_b_plate="A1234").id)
    assert facts_from_claim(claim) == Facts(
        vehicle_count=2, plate_a="AB123CD", country_a="I", plate_b="A1234", country_b="RSM",
        insurer_a_known=True, insurer_b_known=True, injuries=False,
        injured_driver_a_only=None, passengers_injured=None, disability_pct=None)
    assert assess(facts_from_claim(claim)).applies is True


@pytest.mark.parametrize("fields, applies, words", [
    ({}, True, ["art. 149", "nessun ferito"]),
    ({"vehicle_count": 3}, False, ["3 veicoli coinvolti"]),
    ({"vehicle_b_country": "D", "vehicle_b_plate": "M AB 1234"}, False, ["veicolo B con targa estera (D)"]),
    ({"vehicle_a_country": "V", "vehicle_a_plate": "SCV123"}, True, ["veicolo A: Città del Vaticano"]),
    ({"vehicle_b_insurer": None}, None, ["manca la compagnia del veicolo B"]),
    ({"vehicle_a_plate": None}, None, ["manca la targa del veicolo A"]),
    # The claim does not yet record who was hurt: an injured claim cannot be assessed.
    ({"injuries": True, "injured_persons": "Mario Rossi (conducente veicolo A)"}, None, ["manca chi è ferito"]),
], ids=["two Italian cars", "three vehicles", "German plate on B", "Vatican plate on A",
        "no insurer for B", "no plate for A", "injuries"])
def test_claim_rows_are_assessed(f, parties, fields, applies, words):
    claim = Claim.get_by_id(_claim(f, parties, **fields).id)
    verdict = assess(facts_from_claim(claim))
    assert verdict.applies is applies
    for word in words:
        assert word in verdict.reason


def test_facts_from_an_unsaved_claim():
    claim = Claim(vehicle_a_plate="AB123CD", vehicle_b_plate="EF456GH", vehicle_a_insurer=None, vehicle_b_insurer=None)
    verdict = assess(facts_from_claim(claim))
    assert verdict.applies is None
    assert verdict.basis == ["manca la compagnia del veicolo A", "manca la compagnia del veicolo B"]


def test_apply_verdict_sets_the_claim_fields_and_the_caller_saves(f, parties):
    claim = _claim(f, parties)
    claim.vehicle_b_country, claim.vehicle_b_plate = "D", "MAB1234"
    applies, reason = apply_verdict(claim)
    assert (applies, reason) == (False, "Procedura ordinaria (art. 148 CdA): veicolo B con targa estera (D).")
    assert Claim.get_by_id(claim.id).direct_compensation is True  # as opened; not saved by apply_verdict
    claim.save()
    saved = Claim.get_by_id(claim.id)
    assert (saved.direct_compensation, saved.direct_compensation_reason) == (applies, reason)


def test_apply_verdict_keeps_the_reason_in_italian_for_an_english_user(app, f, parties):
    claim = _claim(f, parties)
    with app.test_request_context("/"):
        session["language"] = "en"
        applies, reason = apply_verdict(claim)
    assert applies is True
    assert reason.startswith("Indennizzo diretto (art. 149 CdA): due veicoli a motore")
