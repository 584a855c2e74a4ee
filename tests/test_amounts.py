"""Money typed the Italian way is read once, by one parser, and never changes magnitude."""
from __future__ import annotations

import copy
import re
from decimal import Decimal

import peewee as pw
import pytest
from babel.numbers import NumberFormatError, parse_decimal

from models import Claim, ClaimStatus, OutboundEmail, Payment, Role, StatusChange
from workflows import engine
from workflows.amounts import InvalidAmount, italian, parse_amount

from .conftest import csrf_token, login
from .test_intake import PASSWORD, payload, post, shop  # noqa: F401 - fixture
from .test_workflows import TODAY, claim_in, desk  # noqa: F401 - fixture

ACCEPTED = [
    ("1500", "1500.00"),
    ("1.500", "1500.00"),
    ("1500,00", "1500.00"),
    ("1.500,00", "1500.00"),
    ("€ 1.500,00", "1500.00"),
    ("€1.500", "1500.00"),
    ("1500 €", "1500.00"),
    ("EUR 1.500,00", "1500.00"),
    (" 1.500 ", "1500.00"),
    ("1 500,00", "1500.00"),
    ("1\u00a0500,00", "1500.00"),
    ("1.234,56", "1234.56"),
    ("1234,56", "1234.56"),
    ("1.500.000", "1500000.00"),
    ("0,5", "0.50"),
    (",50", "0.50"),
    ("800", "800.00"),
    ("9.999.999.999,99", "9999999999.99"),
]

REFUSED = [
    ("1.5", "«1.5» non è un importo chiaro: scrivi 1,50 oppure 1.500."),
    ("1.50", "«1.50» non è un importo chiaro: scrivi 1,50 oppure 1.500."),
    ("100.00", "«100.00» non è un importo chiaro: scrivi 100,00 oppure 100.000."),
    ("1500.00", "«1500.00» non è un importo chiaro: il punto separa le migliaia; scrivi 1.500,00."),
    ("1.50.0", "«1.50.0» non è un importo chiaro: il punto separa le migliaia, a gruppi di tre cifre, e la "
               "virgola i decimali (per esempio 1.500,00)."),
    ("1.2345", "«1.2345» non è un importo chiaro: il punto separa le migliaia"),
    ("1 50", "«1 50» non è un importo chiaro: scrivi 1,50 oppure 1.500."),
    ("1,5,0", "«1,5,0» non è un importo: scrivi le cifre, con il punto per le migliaia e la virgola per i "
              "decimali (per esempio 1.500,00)."),
    ("abc", "«abc» non è un importo: scrivi le cifre"),
    ("1e9999", "«1e9999» non è un importo: scrivi le cifre"),
    ("1e3", "«1e3» non è un importo: scrivi le cifre"),
    ("NaN", "«NaN» non è un importo: scrivi le cifre"),
    ("Infinity", "«Infinity» non è un importo: scrivi le cifre"),
    ("1_500", "«1_500» non è un importo: scrivi le cifre"),
    ("\u0661\u0665\u0660\u0660", "«\u0661\u0665\u0660\u0660» non è un importo: scrivi le cifre"),
    ("1,500", "«1,500» ha più di 2 decimali; per le migliaia si usa il punto: 1.500."),
    ("1,505", "«1,505» ha più di 2 decimali; per le migliaia si usa il punto: 1.505."),
    ("1.234,567", "«1.234,567» ha più di 2 decimali."),
    ("-5", "L'importo deve essere maggiore di zero."),
    ("0", "L'importo deve essere maggiore di zero."),
    ("0,00", "L'importo deve essere maggiore di zero."),
    ("", "Indica l'importo."),
    ("  €  ", "Indica l'importo."),
    ("10.000.000.000", "Importo troppo grande: al massimo € 9.999.999.999,99."),
    ("99999999999999999999", "Importo troppo grande: al massimo € 9.999.999.999,99."),
]


@pytest.mark.parametrize("typed, value", ACCEPTED)
def test_an_amount_typed_the_italian_way_is_read_with_its_magnitude(app, typed, value):
    amount = parse_amount(typed, Payment.amount)
    assert amount == Decimal(value) and str(amount) == value


@pytest.mark.parametrize("typed, message", REFUSED)
def test_an_unclear_or_malformed_amount_is_refused_saying_what_was_understood(app, typed, message):
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(typed, Payment.amount)
    assert str(refused.value.message).startswith(message), str(refused.value.message)
    assert refused.value.field == "amount"


# What Babel's strict mode itself does with text a person may type; each line marked
# "ours refuses" is a silent change the parser closes on top of it.
BABEL_STRICT = [
    ("1.500", Decimal("1500")),
    ("1.5", None),  # refused: suggests 15 or 1,5
    ("1500.00", None),  # refused: never 150000
    ("1.50", None),
    ("1,500", Decimal("1.500")),  # 1,5 — ours refuses: three decimals typed
    ("1e3", Decimal("1000")),  # ours refuses: no exponents
    ("NaN", "NaN"),  # ours refuses
    ("1_500", Decimal("1500")),  # ours refuses
    ("-5", Decimal("-5")),  # ours refuses where only positive amounts are allowed
    ("€ 1.500,00", None),  # ours strips the currency sign first
    ("1 500,00", None),  # ours reads a space between digits as grouping
]


@pytest.mark.parametrize("text, babel_reads", BABEL_STRICT)
def test_what_babel_strict_mode_accepts_is_known(text, babel_reads):
    try:
        value = parse_decimal(text, locale="it_IT", strict=True)
    except NumberFormatError:
        value = None
    if babel_reads == "NaN":
        assert value.is_nan()
    else:
        assert value == babel_reads


def test_numbers_that_are_already_numbers_are_only_checked_against_the_column(app):
    assert parse_amount(Decimal("1.500"), Payment.amount) == Decimal("1.50")  # a number, not text
    assert parse_amount(1500, Payment.amount) == Decimal("1500.00")
    for junk, message in [(Decimal("1.505"), "al massimo due decimali"), (Decimal("NaN"), "Importo non valido."),
                          (1.5, "Importo non valido."), (None, "Indica l'importo.")]:
        with pytest.raises(InvalidAmount, match=message):
            parse_amount(junk, Payment.amount)


def test_the_limit_is_read_from_the_column(app):
    small = pw.DecimalField(max_digits=5, decimal_places=2)
    assert parse_amount("999,99", small) == Decimal("999.99")
    with pytest.raises(InvalidAmount, match=re.escape("al massimo € 999,99")):
        parse_amount("1.000", small)
    assert parse_amount("0", Claim.estimate_amount, zero_allowed=True) == Decimal("0.00")
    with pytest.raises(InvalidAmount, match="non può essere negativo"):
        parse_amount("-1", Claim.estimate_amount, zero_allowed=True)


def test_amounts_are_shown_the_italian_way_and_the_english_way(app):
    import flask_babel
    from flask import session

    from admin_views.formatters import euro
    assert italian(Decimal("1500")) == "1.500,00"
    with app.test_request_context():
        assert euro(Decimal("1500.00")) == "€ 1.500,00" and euro(Decimal("1234567.8")) == "€ 1.234.567,80"
        assert euro(None) == ""
    with app.test_request_context():
        session["language"] = "en"
        flask_babel.refresh()
        assert euro(Decimal("1500.00")) == "€ 1,500.00"


# ---- the claim page's actions -----------------------------------------------------

def record_offer(client, claim, amount):
    return client.post(f"/admin/claim/act/{claim.id}/record_offer", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version, "amount": amount,
        "on_date": TODAY.isoformat()}, follow_redirects=True)


@pytest.mark.parametrize("typed, stored, shown", [
    ("1.500", "1500.00", "€ 1.500,00"), ("1.234,56", "1234.56", "€ 1.234,56"), ("€ 1.500,00", "1500.00", "€ 1.500,00")])
def test_an_offer_typed_on_the_claim_page_is_recorded_with_its_magnitude(client, desk, typed, stored, shown):
    claim = claim_in(desk, ClaimStatus.FILED)
    login(client, desk.users[Role.LAWYER])
    page = record_offer(client, claim, typed).get_data(as_text=True)
    assert str(Payment.get(Payment.claim == claim.id).amount) == stored
    assert shown in page
    note = StatusChange.select().where(StatusChange.claim == claim.id, StatusChange.event == "record_offer").get().note
    assert note.startswith(f"Offerta di {shown} del {TODAY:%d/%m/%Y}.")
    mail = OutboundEmail.select().where(OutboundEmail.claim == claim.id).order_by(OutboundEmail.id.desc()).first()
    assert f"Offerta di {shown} del" in mail.body


def test_an_unclear_offer_is_refused_on_the_claim_page_and_nothing_is_recorded(client, desk):
    claim = claim_in(desk, ClaimStatus.FILED)
    login(client, desk.users[Role.LAWYER])
    page = record_offer(client, claim, "1.5").get_data(as_text=True)
    assert "«1.5» non è un importo chiaro: scrivi 1,50 oppure 1.500." in page
    assert Payment.select().where(Payment.claim == claim.id).count() == 0


def test_the_payment_note_writes_amounts_the_italian_way(desk):
    claim = claim_in(desk, ClaimStatus.FILED)
    engine.apply("record_payment", claim, desk.users[Role.LAWYER], amount="1.200,50", on_date=TODAY)
    note = StatusChange.select().where(StatusChange.event == "record_payment").get().note
    assert note == f"Rimborso di € 1.200,50 del {TODAY:%d/%m/%Y} (totale rimborsato € 1.200,50)."


# ---- the claim form -----------------------------------------------------------------

def edit_claim(client, claim, **amounts):
    return client.post(f"/admin/claim/edit/?id={claim.id}", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "repairer": claim.repairer_id,
        "asp_centre": claim.asp_centre_id, "customer_name": "Nuovo nome", "vehicle_count": 2,
        "vehicle_a_country": "I", "vehicle_b_country": "I", **amounts})


def test_the_claim_form_reads_amounts_the_italian_way(client, f):
    centre, repairer = f.centre(), f.repairer()
    claim = f.claim(repairer, centre)
    login(client, f.user(Role.ADMIN))
    response = edit_claim(client, claim, claimed_amount="1.234,56", estimate_amount="1234,56")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    saved = Claim.get_by_id(claim.id)
    assert saved.claimed_amount == Decimal("1234.56") and saved.estimate_amount == Decimal("1234.56")


def test_the_claim_form_shows_amounts_back_formatted_in_a_text_input(client, f):
    centre, repairer = f.centre(), f.repairer()
    claim = f.claim(repairer, centre, claimed_amount=Decimal("1500.00"))
    login(client, f.user(Role.ADMIN))
    page = client.get(f"/admin/claim/edit/?id={claim.id}").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="claimed_amount"[^>]*>', page).group(0)
    assert 'type="text"' in box and 'inputmode="decimal"' in box and 'value="€ 1.500,00"' in box
    estimate = re.search(r'<input[^>]*name="estimate_amount"[^>]*>', page).group(0)
    assert 'type="text"' in estimate and 'value=""' in estimate


def test_an_unclear_amount_in_the_claim_form_keeps_what_was_typed_and_saves_nothing(client, f):
    centre, repairer = f.centre(), f.repairer()
    claim = f.claim(repairer, centre, customer_name="Originale")
    login(client, f.user(Role.ADMIN))
    response = edit_claim(client, claim, claimed_amount="1.5", estimate_amount="1.500")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "«1.5» non è un importo chiaro: scrivi 1,50 oppure 1.500." in page
    assert re.search(r'<input[^>]*name="claimed_amount"[^>]*value="1.5"', page)
    assert Claim.get_by_id(claim.id).customer_name == "Originale" and Claim.get_by_id(claim.id).claimed_amount is None


def test_every_money_column_of_every_grid_form_is_an_amount_field(app):
    from admin_views.fields import AmountField
    from models.base import MoneyField
    checked = []
    with app.test_request_context():
        for endpoint, view in app.extensions["gessin_admin"].views_by_endpoint.items():
            model = getattr(view, "model", None)
            if model is None or not hasattr(view, "get_form"):
                continue
            form = view.get_form()
            for column in model._meta.sorted_fields:
                if isinstance(column, MoneyField) and hasattr(form, column.name):
                    assert getattr(form, column.name).field_class is AmountField, (endpoint, column.name)
                    checked.append((endpoint, column.name))
    assert ("claim", "claimed_amount") in checked and ("claim", "estimate_amount") in checked


# ---- the API ------------------------------------------------------------------------

@pytest.mark.parametrize("sent", ["1.500", "1.500,00", "1500,00", "1e3", "1,5"])
def test_the_api_refuses_an_amount_string_that_is_not_in_machine_form(client, shop, sent):
    response = post(client, payload(shop[0], estimate_amount=sent))
    assert response.status_code == 422 and response.mimetype == "application/problem+json", response.json
    errors = [e for e in response.json["errors"] if e["field"] == "estimate_amount"]
    assert errors and errors[0]["message"].startswith(f"importo non valido: «{sent}»")
    assert "senza separatore delle migliaia" in errors[0]["message"]
    assert Claim.select().count() == 0


@pytest.mark.parametrize("sent, stored", [("1.50", "1.50"), ("1520.40", "1520.40"), (1520.4, "1520.40"),
                                          ("1500", "1500.00")])
def test_the_api_takes_machine_form_amounts(client, shop, sent, stored):
    body = copy.deepcopy(payload(shop[0], estimate_amount=sent))
    response = post(client, body)
    assert response.status_code == 201, response.json
    assert str(Claim.get().estimate_amount) == stored
