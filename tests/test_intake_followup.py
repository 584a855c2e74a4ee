"""A WinCar seguito changes only what it sends, and its history row says what changed."""
from __future__ import annotations

import copy

from models import Claim, StatusChange

from .test_intake import payload, post, shop  # noqa: F401 - fixtures and builders


def _opened(client, centre, **extra):
    first = payload(centre, wincar_assessment="Indennizzo diretto", **extra)
    first["accident"]["witnesses"] = "Giulia Neri"
    first["customer"]["phone"] = "06 555"
    number = post(client, first).json["number"]
    return Claim.get(Claim.number == number), first


def _seguito(first, **changes):
    follow = copy.deepcopy(first)
    follow.update(event="seguito", attachments=[], **changes)
    return follow


def test_a_seguito_keeps_what_it_does_not_send(client, shop):
    centre, _repairer = shop
    claim, first = _opened(client, centre)
    follow = _seguito(first)
    for member in ("wincar_assessment", "estimate_amount"):
        follow.pop(member)
    follow["accident"].pop("witnesses")
    follow["accident"]["vehicle_b"].pop("driver")
    follow["customer"].pop("phone")
    follow["customer"]["address"] = "Via Roma 1, Roma"
    assert post(client, follow).status_code == 200
    saved = Claim.get_by_id(claim.id)
    assert saved.wincar_assessment == "Indennizzo diretto"
    assert str(saved.estimate_amount) == "1520.40"
    assert (saved.witnesses, saved.vehicle_b_driver, saved.customer_phone) == ("Giulia Neri", "Luca Verdi", "06 555")
    assert saved.customer_address == "Via Roma 1, Roma"


def test_a_seguito_that_sends_null_clears_the_field(client, shop):
    centre, _repairer = shop
    claim, first = _opened(client, centre)
    assert post(client, _seguito(first, wincar_assessment=None)).status_code == 200
    assert Claim.get_by_id(claim.id).wincar_assessment is None


def test_the_seguito_history_names_each_changed_field_with_old_and_new_value(client, shop):
    centre, _repairer = shop
    claim, first = _opened(client, centre)
    follow = _seguito(first, wincar_assessment="Procedura ordinaria", estimate_amount="1800.00")
    follow["accident"]["date"] = "2026-10-02"
    assert post(client, follow).status_code == 200
    note = StatusChange.get(StatusChange.claim == claim, StatusChange.event == "seguito").note
    assert "Valutazione WinCar: «Indennizzo diretto» → «Procedura ordinaria»" in note
    assert "Importo preventivo: «€ 1.520,40» → «€ 1.800,00»" in note
    assert "Data sinistro: «01/10/2026» → «02/10/2026»" in note
    assert "campi" not in note  # not a bare count any more
