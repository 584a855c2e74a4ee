"""Duplicate warnings: same plate (on either side) and same accident date."""
from __future__ import annotations

import datetime as dt

import pytest

from models import Claim
from workflows.duplicates import duplicates_of, possible_duplicates

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def make(f):
    repairer, centre = f.repairer(), f.centre()

    def build(a, b, day=DAY, **kw):
        return f.claim(kw.pop("repairer", repairer), kw.pop("centre", centre),
                       vehicle_a_plate=a, vehicle_b_plate=b, accident_date=day, **kw)
    return build


def numbers(claims):
    return sorted(c.number for c in claims)


def test_a_plate_as_vehicle_a_on_one_claim_and_vehicle_b_on_another_is_a_duplicate(make):
    first = make("AB123CD", "EF456GH")
    second = make("EF456GH", "AB123CD")  # the other party's body shop sends its own file
    make("ZZ999ZZ", "YY888YY")
    assert numbers(duplicates_of(first)) == [second.number]
    assert numbers(duplicates_of(second)) == [first.number]


def test_one_shared_plate_is_enough(make):
    first = make("AB123CD", "EF456GH")
    other = make("KL789MN", "AB123CD")
    assert numbers(duplicates_of(first)) == [other.number]


def test_only_the_same_accident_date_matches(make):
    first = make("AB123CD", "EF456GH")
    make("AB123CD", "EF456GH", day=DAY + dt.timedelta(days=1))
    make("AB123CD", "EF456GH", day=None)
    assert duplicates_of(first) == []


def test_the_claim_itself_is_not_its_own_duplicate(make):
    claim = make("AB123CD", "EF456GH")
    assert duplicates_of(claim) == []
    assert numbers(possible_duplicates(["AB123CD"], DAY)) == [claim.number]
    assert possible_duplicates(["AB123CD"], DAY, exclude_claim_id=claim.id) == []


def test_claims_of_other_centres_are_found_too(f, make):
    first = make("AB123CD", "EF456GH")
    elsewhere = make("EF456GH", None, repairer=f.repairer(), centre=f.centre())
    assert numbers(duplicates_of(first)) == [elsewhere.number]


def test_plates_are_normalised_before_searching(make):
    claim = make("AB123CD", "EF456GH")
    assert numbers(possible_duplicates(["ab 123-cd", None, ""], DAY)) == [claim.number]


def test_nothing_to_compare_gives_no_warning(make):
    make("AB123CD", "EF456GH")
    assert possible_duplicates([], DAY) == []
    assert possible_duplicates([None, " "], DAY) == []
    assert possible_duplicates(["AB123CD"], None) == []


def test_an_unsaved_claim_from_the_intake_finds_the_saved_ones(make):
    first, second = make("AB123CD", "EF456GH"), make("EF456GH", "KL789MN")
    incoming = Claim(vehicle_a_plate="ef456gh", vehicle_b_plate=None, accident_date=DAY)
    assert [c.number for c in duplicates_of(incoming)] == [first.number, second.number]  # oldest first


def test_the_search_uses_both_plate_and_date_indexes(app):
    import models
    from models import db
    sql, params = Claim.select().where(
        ((Claim.vehicle_a_plate.in_(["AB123CD"])) & (Claim.accident_date == DAY))
        | ((Claim.vehicle_b_plate.in_(["AB123CD"])) & (Claim.accident_date == DAY))).sql()
    if models.is_postgres():
        with db.atomic():  # an empty table would be scanned: ask for the plan PostgreSQL uses on real data
            db.execute_sql("SET LOCAL enable_seqscan = off")
            plan = " ".join(str(row[0]) for row in db.execute_sql("EXPLAIN " + sql, params))
    else:
        plan = " ".join(str(row[-1]) for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    if models.is_postgres():  # on a tiny table PostgreSQL may probe one index and filter: never a scan
        assert "Seq Scan" not in plan and "plate_accident_date" in plan, plan
    else:
        assert "claim_vehicle_a_plate_accident_date" in plan and "claim_vehicle_b_plate_accident_date" in plan
