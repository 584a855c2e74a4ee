"""Who pays a claim and by which procedure: one rule for the debtor insurer, the letter, the
claims-office sending and the claim page; a debtor chosen by hand wins."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from playhouse.shortcuts import model_to_dict

from models import Claim, ClaimStatus, Role, db
from workflows import claim_letter, claims_office, engine, intake, who_pays

from .test_workflows import TODAY, claim_in, desk  # noqa: F401 - fixture


@pytest.fixture
def cars(f):
    """The insurers of the two vehicles, and one that insures neither (the UCI, say)."""
    return {"a": f.insurer(name="Assicurazioni Alfa", claims_pec="sinistri@pec.alfa.example.it"),
            "b": f.insurer(name="Beta Assicurazioni", claims_pec="sinistri@pec.beta.example.it"),
            "other": f.insurer(name="UCI Ufficio Centrale Italiano", claims_pec="sinistri@pec.uci.example.it")}


def two_cars(f, cars, **fields):
    """Two Italian cars, both insured, nobody hurt: direct compensation."""
    data = {"vehicle_a_plate": "AB123CD", "vehicle_b_plate": "EF456GH",
            "vehicle_a_insurer": cars["a"], "vehicle_b_insurer": cars["b"]}
    return f.claim(f.repairer(), f.centre(), **{**data, **fields})


def test_opening_a_claim_gives_it_the_verdict_and_the_debtor_the_procedure_names(f, cars):
    direct = Claim.get_by_id(two_cars(f, cars).id)
    assert direct.direct_compensation is True and "art. 149" in direct.direct_compensation_reason
    assert (direct.insurer_id, direct.insurer_by_hand) == (cars["a"].id, False)
    ordinary = Claim.get_by_id(two_cars(f, cars, vehicle_count=3).id)
    assert ordinary.direct_compensation is False and "3 veicoli coinvolti" in ordinary.direct_compensation_reason
    assert (ordinary.insurer_id, ordinary.insurer_by_hand) == (cars["b"].id, False)
    for claim, insurer in ((direct, cars["a"]), (ordinary, cars["b"])):
        assert who_pays.debtor(claim).insurer == insurer
        assert claim_letter.addressee(claim).name == insurer.name
        assert claims_office.addresses(claim)[0].address == insurer.claims_pec.lower()  # its PEC first


def test_the_debtor_follows_a_change_of_the_facts(f, cars):
    claim = two_cars(f, cars)
    claim.vehicle_count = 3
    columns = who_pays.reassess(claim)
    assert columns == {"direct_compensation": False, "direct_compensation_reason": claim.direct_compensation_reason,
                       "insurer": cars["b"].id, "insurer_by_hand": False}
    assert claim_letter.addressee(claim).side == "b"


def test_a_debtor_chosen_by_hand_wins_and_stays_when_the_facts_change(f, cars):
    claim = Claim.get_by_id(two_cars(f, cars, insurer=cars["other"]).id)
    assert (claim.insurer_id, claim.insurer_by_hand) == (cars["other"].id, True)
    to = who_pays.debtor(claim)
    assert (to.insurer, to.by_hand, to.procedure) == (cars["other"], True, "direct")
    assert claim_letter.addressee(claim).pec == "sinistri@pec.uci.example.it"
    claim.vehicle_count = 3
    who_pays.reassess(claim)
    assert claim.direct_compensation is False and claim.insurer_id == cars["other"].id
    who_pays.reassess(claim, chosen=None)  # chosen none: the rule decides again
    assert (claim.insurer_id, claim.insurer_by_hand) == (cars["b"].id, False)


def test_a_hand_choice_the_rule_comes_to_name_follows_the_rule_again(f, cars):
    claim = two_cars(f, cars, vehicle_b_insurer=None, vehicle_count=3, insurer=cars["b"])
    assert claim.insurer_by_hand  # the vehicle's insurer unknown: the debtor was typed by hand
    claim.vehicle_b_insurer = cars["b"]
    who_pays.reassess(claim)
    assert (claim.insurer_id, claim.insurer_by_hand) == (cars["b"].id, False)
    claim.vehicle_count = 2  # now direct compensation: the claimant's own insurer pays
    who_pays.reassess(claim)
    assert claim.insurer_id == cars["a"].id


def test_the_procedure_chosen_on_filing_moves_the_debtor_and_the_letter(desk, cars):
    claim = claim_in(desk, ClaimStatus.ASSIGNED, insurer=None, vehicle_a_plate="AB123CD", vehicle_b_plate="EF456GH",
                     vehicle_a_insurer=cars["a"], vehicle_b_insurer=cars["b"])
    assert (claim.direct_compensation, claim.insurer_id) == (True, cars["a"].id)
    filed = engine.apply("file_claim", claim, desk.users[Role.ADMIN], filed_on=TODAY.isoformat(),
                         procedure="ordinary")  # the claimant opts out of direct compensation
    assert (filed.procedure, filed.insurer_id, filed.insurer_by_hand) == ("ordinary", cars["b"].id, False)
    assert claim_letter.addressee(filed).name == "Beta Assicurazioni"


def test_a_debtor_chosen_by_hand_stays_on_filing(desk, cars):
    claim = claim_in(desk, ClaimStatus.ASSIGNED, insurer=cars["other"], vehicle_a_plate="AB123CD",
                     vehicle_b_plate="EF456GH", vehicle_a_insurer=cars["a"], vehicle_b_insurer=cars["b"])
    filed = engine.apply("file_claim", claim, desk.users[Role.ADMIN], filed_on=TODAY.isoformat(),
                         procedure="ordinary")
    assert (filed.insurer_id, filed.insurer_by_hand) == (cars["other"].id, True)


def test_the_history_says_what_moved(f, cars):
    claim = two_cars(f, cars)
    before = who_pays.Assessed.of(claim)
    assert who_pays.change_note(before, claim) is None
    claim.vehicle_count = 3
    who_pays.reassess(claim)
    note = who_pays.change_note(before, claim)
    assert note.startswith("Valutazione del portale: «Sì» → «No». Procedura ordinaria (art. 148 CdA): 3 veicoli")
    assert note.endswith("Compagnia debitrice: «Assicurazioni Alfa» → «Beta Assicurazioni».")


def test_claims_left_without_a_verdict_get_one(f, cars):
    claim = two_cars(f, cars)
    Claim.update(direct_compensation=None, direct_compensation_reason=None, insurer=None).where(
        Claim.id == claim.id).execute()
    assert who_pays.reassess_unassessed() == 1
    saved = Claim.get_by_id(claim.id)
    assert (saved.direct_compensation, saved.insurer_id) == (True, cars["a"].id)
    assert who_pays.reassess_unassessed() == 0


class _Recorder:
    """Stands for peewee-migrate's migrator: keeps the migration's SQL to run it here."""

    def __init__(self):
        self.statements = []

    def add_fields(self, *args, **kwargs):
        pass

    def sql(self, statement):
        self.statements.append(statement)


def test_the_migration_keeps_a_debtor_typed_by_hand_and_aligns_the_others(f, cars):
    path = Path(__file__).parent.parent / "migrations" / "024_debtor_by_hand.py"
    spec = importlib.util.spec_from_file_location("debtor_by_hand", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    typed = two_cars(f, cars)  # entered by hand before: no verdict, the claimant's insurer typed as debtor
    derived = two_cars(f, cars)  # from WinCar: the verdict's insurer, then filed with the ordinary procedure
    blank = two_cars(f, cars)  # entered by hand, no debtor: its letter went to vehicle B's insurer
    Claim.update(direct_compensation=None, insurer=cars["a"]).where(Claim.id == typed.id).execute()
    Claim.update(procedure="ordinary", insurer=cars["a"]).where(Claim.id == derived.id).execute()
    Claim.update(direct_compensation=None, insurer=None).where(Claim.id == blank.id).execute()
    recorder = _Recorder()
    migration.migrate(recorder, db)
    for statement in recorder.statements:
        db.execute_sql(statement)
    rows = {c.id: (c.insurer_id, c.insurer_by_hand) for c in Claim.select()}
    assert rows[typed.id] == (cars["a"].id, True)
    assert rows[derived.id] == (cars["b"].id, False)
    assert rows[blank.id] == (cars["b"].id, False)


def test_a_wincar_seguito_reassesses_but_keeps_a_debtor_chosen_by_hand(f, cars):
    typed, ruled = two_cars(f, cars, insurer=cars["other"]), two_cars(f, cars)
    for claim, debtor in ((typed, cars["other"]), (ruled, cars["b"])):
        # what `receive_followup` assesses: the claim as it is, with the seguito's fields
        columns = intake.assess(Claim(**{**model_to_dict(claim, recurse=False), "vehicle_count": 3}))
        assert (columns["direct_compensation"], columns["insurer"]) == (False, debtor.id)


def test_a_new_reason_alone_is_said_too(f, cars):
    claim = two_cars(f, cars, vehicle_a_insurer=None)
    before = who_pays.Assessed.of(claim)
    claim.vehicle_b_plate = None
    who_pays.reassess(claim)
    assert who_pays.change_note(before, claim) == (
        "Valutazione del portale («—») con un nuovo motivo: Indennizzo diretto da verificare, dati mancanti: "
        "manca la compagnia del veicolo A; manca la targa del veicolo B.")
