"""Dates typed and shown gg/mm/aaaa, moments in Rome time (both summer-time changes), CSV for Italian Excel."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from models import Claim, OutboundEmail, Payment, Role
from workflows import dates, engine
from workflows.errors import InvalidData

from .conftest import csrf_token, login

# ---- the one parser ------------------------------------------------------------------

ACCEPTED = [
    ("12/10/2026", dt.date(2026, 10, 12)),
    (" 12/10/2026 ", dt.date(2026, 10, 12)),
    ("1/2/2026", dt.date(2026, 2, 1)),
    ("01/02/2026", dt.date(2026, 2, 1)),
    ("12.10.2026", dt.date(2026, 10, 12)),
    ("12-10-2026", dt.date(2026, 10, 12)),
    ("2026-10-12", dt.date(2026, 10, 12)),  # ISO: browsers' date inputs and the API
    ("29/02/2028", dt.date(2028, 2, 29)),
]

REFUSED = [
    ("12/10/26", "scrivi l'anno con quattro cifre (gg/mm/aaaa, per esempio 12/10/2026)."),
    ("31/02/2026", "il 31/02/2026 non esiste nel calendario."),
    ("29/02/2027", "il 29/02/2027 non esiste nel calendario."),
    ("12/13/2026", "il 12/13/2026 non esiste nel calendario."),
    ("12/10/0026", "scrivi una data dal 1900 in poi (gg/mm/aaaa)."),
    ("12/10", "scrivi la data come gg/mm/aaaa (per esempio 12/10/2026)."),
    ("2026/10/12", "scrivi la data come gg/mm/aaaa (per esempio 12/10/2026)."),
    ("12/10-2026", "scrivi la data come gg/mm/aaaa (per esempio 12/10/2026)."),
    ("12 ottobre 2026", "scrivi la data come gg/mm/aaaa (per esempio 12/10/2026)."),
    ("", "scrivi la data come gg/mm/aaaa (per esempio 12/10/2026)."),
]


@pytest.mark.parametrize("text, expected", ACCEPTED)
def test_a_typed_date_is_read_day_first(app, text, expected):
    assert dates.parse_date(text) == expected


@pytest.mark.parametrize("text, message", REFUSED)
def test_a_date_that_is_not_one_is_refused_with_the_reason(app, text, message):
    with app.test_request_context():
        with pytest.raises(dates.InvalidDate) as refused:
            dates.parse_date(text)
        assert str(refused.value.message) == message


@pytest.mark.parametrize("text, expected", ACCEPTED[:-1])  # the last one is still ahead
def test_the_engine_takes_a_date_typed_the_italian_way(app, text, expected):
    assert engine._date(text, "on_date", "Data") == expected


def test_the_engine_refuses_a_day_the_calendar_lacks_naming_the_field(app):
    with app.test_request_context():
        with pytest.raises(InvalidData) as refused:
            engine._date("31/02/2026", "on_date", "Data")
        assert str(refused.value.message) == "Data: il 31/02/2026 non esiste nel calendario."
        assert refused.value.field == "on_date"


# ---- the one formatter: Rome time across both summer-time changes ---------------------

# Stored naive UTC -> shown in Rome. 2026-03-29: 02:00 CET becomes 03:00 CEST;
# 2026-10-25: 03:00 CEST becomes 02:00 CET (02:30 happens twice).
MOMENTS = [
    (dt.datetime(2026, 3, 29, 0, 30), "29/03/2026 01:30"),
    (dt.datetime(2026, 3, 29, 1, 30), "29/03/2026 03:30"),
    (dt.datetime(2026, 10, 25, 0, 30), "25/10/2026 02:30"),
    (dt.datetime(2026, 10, 25, 1, 30), "25/10/2026 02:30"),
    (dt.datetime(2026, 10, 25, 2, 30), "25/10/2026 03:30"),
    (dt.datetime(2026, 12, 31, 23, 30), "01/01/2027 00:30"),
    (dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC), "01/07/2026 14:00"),
]


@pytest.mark.parametrize("moment, shown", MOMENTS)
def test_a_stored_moment_is_shown_in_rome_time_with_a_four_digit_year(moment, shown):
    assert dates.format_moment(moment) == shown


def test_a_date_is_shown_with_a_four_digit_year():
    assert dates.format_date(dt.date(2026, 1, 5)) == "05/01/2026"
    assert dates.format_moment(dt.date(2026, 1, 5)) == "05/01/2026"
    assert dates.format_date(dt.datetime(2026, 12, 31, 23, 30)) == "01/01/2027"  # Rome's day
    assert dates.format_moment(None) == dates.format_date(None) == ""


DST_CLAIMS = [(dt.datetime(2026, 3, 29, 1, 30), "29/03/2026 03:30"),
              (dt.datetime(2026, 10, 25, 1, 30), "25/10/2026 02:30")]


@pytest.fixture
def office(f, client):
    centre, repairer = f.centre(name="Centro Alfa"), f.repairer(name="Carrozzeria Rossi")
    claims = []
    for received, _shown in DST_CLAIMS:
        claim = f.claim(repairer, centre, accident_date=dt.date(2026, 3, 2))
        Claim.update(received_at=received).where(Claim.id == claim.id).execute()
        claims.append(Claim.get_by_id(claim.id))
    login(client, f.user(Role.ADMIN))
    return claims


def test_the_grid_shows_rome_time_across_both_summer_time_changes(client, office):
    page = client.get("/admin/claim/").get_data(as_text=True)
    for _received, shown in DST_CLAIMS:
        assert shown in page


def test_the_claim_page_shows_rome_time_and_four_digit_years(client, office):
    for claim, (_received, shown) in zip(office, DST_CLAIMS):
        page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
        assert shown in page and "02/03/2026" in page


def test_an_email_shows_rome_time_without_a_request(app, office):
    from tasks import mail
    with app.app_context():
        for claim, (_received, shown) in zip(office, DST_CLAIMS):
            _subject, body = mail.render("new_claim_centre", claim=claim, claim_url="http://x")
            assert f"Ricevuta il: {shown}" in body and "Data sinistro: 02/03/2026" in body


def lawyers_claim(client, f, status: str) -> Claim:
    """A claim in `status` entrusted to a lawyer, who is logged in on `client`."""
    centre, repairer = f.centre(), f.repairer()
    lawyer = f.lawyer(centre)
    claim = f.claim(repairer, centre, lawyer=lawyer)
    Claim.update(status=status).where(Claim.id == claim.id).execute()  # test data: the state under test
    login(client, f.user(Role.LAWYER, lawyer=lawyer))
    return Claim.get_by_id(claim.id)


def test_the_claim_page_offers_today_as_gg_mm_aaaa_in_the_italian_picker(client, f):
    from workflows import clock
    claim = lawyers_claim(client, f, "assigned")
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    today = clock.today().strftime("%d/%m/%Y")
    assert f'value="{today}" data-role="datepicker" data-date-format="DD/MM/YYYY"' in page
    assert 'type="date"' not in page
    assert "vendor/moment/locale-it.js" in page and "admin/js/form.js" in page


def test_an_offer_dated_gg_mm_aaaa_on_the_claim_page_is_recorded(client, f):
    claim = lawyers_claim(client, f, "filed")
    token = csrf_token(client, f"/admin/claim/details/?id={claim.id}")
    client.post(f"/admin/claim/act/{claim.id}/record_offer", data={
        "csrf_token": token, "version": claim.version, "amount": "1500", "on_date": "12/10/2026"})
    assert [p.on_date for p in Claim.get_by_id(claim.id).payments] == [dt.date(2026, 10, 12)]


# ---- the claim form's date fields ----------------------------------------------------

def test_the_claim_form_shows_and_reads_dates_gg_mm_aaaa(client, f):
    centre, repairer = f.centre(), f.repairer()
    claim = f.claim(repairer, centre, accident_date=dt.date(2026, 3, 2))
    login(client, f.user(Role.ADMIN))
    form = client.get(f"/admin/claim/edit/?id={claim.id}").get_data(as_text=True)
    assert 'value="02/03/2026"' in form and 'data-date-format="DD/MM/YYYY"' in form
    data = {"csrf_token": csrf_token(client, f"/admin/claim/edit/?id={claim.id}"), "customer_name": "Mario Rossi",
            "vehicle_count": 2, "vehicle_a_country": "I", "vehicle_b_country": "I", "accident_date": "12/10/2026"}
    client.post(f"/admin/claim/edit/?id={claim.id}", data=data)
    assert Claim.get_by_id(claim.id).accident_date == dt.date(2026, 10, 12)

    data["accident_date"] = "31/02/2026"
    page = client.post(f"/admin/claim/edit/?id={claim.id}", data=data).get_data(as_text=True)
    assert "il 31/02/2026 non esiste nel calendario." in page
    assert Claim.get_by_id(claim.id).accident_date == dt.date(2026, 10, 12)


# ---- the grid's date filter ----------------------------------------------------------

def _filter_index(client, label):
    from admin_views.claims import ClaimView
    return [str(flt.name) for flt in ClaimView.column_filters].index(label)


def test_the_date_filter_takes_what_the_italian_picker_sends_and_rome_days(client, f):
    centre, repairer = f.centre(), f.repairer()
    first = f.claim(repairer, centre)     # 01/10/2026 00:30 in Rome
    after = f.claim(repairer, centre)     # 01/11/2026 00:30 in Rome
    Claim.update(received_at=dt.datetime(2026, 9, 30, 22, 30)).where(Claim.id == first.id).execute()
    Claim.update(received_at=dt.datetime(2026, 10, 31, 23, 30)).where(Claim.id == after.id).execute()
    login(client, f.user(Role.ADMIN))
    index = _filter_index(client, "Ricevuta")
    for value in ("01/10/2026 - 31/10/2026", "1/10/2026 al 31/10/2026", "01/10/2026 to 31/10/2026",
                  "2026-10-01 to 2026-10-31"):
        page = client.get("/admin/claim/", query_string={f"flt0_{index}": value}).get_data(as_text=True)
        assert first.number in page and after.number not in page, value


# ---- CSV for Italian Excel -----------------------------------------------------------

def export(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf") and response.mimetype_params.get("charset") == "utf-8"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_the_claims_csv_splits_on_semicolons_with_rome_time(client, office):
    office_claim = office[0]
    Claim.update(customer_name="=1+2", vehicle_a_plate=None).where(Claim.id == office_claim.id).execute()
    rows = export(client, "/admin/claim/export/csv/")
    header = rows[0]
    assert len(header) > 5 and "Ricevuta" in header and "Cliente" in header
    by_number = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    for claim, (_received, shown) in zip(office, DST_CLAIMS):
        assert by_number[claim.number]["Ricevuta"] == shown
        assert by_number[claim.number]["Stato"] == "Ricevuta"
    assert by_number[office_claim.number]["Cliente"] == "'=1+2"  # still neutralised


def test_the_claims_csv_carries_the_claimed_amount_the_last_offer_and_what_was_reimbursed(client, office):
    offered, untouched = office[0], office[1]
    Claim.update(claimed_amount=Decimal("2480.50")).where(Claim.id == offered.id).execute()
    for kind, amount, day in (("offer", "1200.00", 3), ("offer", "1500.00", 9), ("reimbursement", "1000.00", 12),
                              ("reimbursement", "234.56", 20)):
        Payment.create(claim=offered, kind=kind, amount=Decimal(amount), on_date=dt.date(2026, 4, day))
    rows = export(client, "/admin/claim/export/csv/")
    by_number = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert {k: by_number[offered.number][k] for k in ("Importo richiesto", "Ultima offerta", "Rimborsato")} == {
        "Importo richiesto": "2480,50", "Ultima offerta": "1500,00", "Rimborsato": "1234,56"}
    assert [by_number[untouched.number][k] for k in ("Ultima offerta", "Rimborsato")] == ["", ""]


def test_every_grid_exports_flags_choices_and_moments_as_italian_excel_reads_them(client, f):
    f.repairer(name="Carrozzeria Attiva", active=True)
    f.repairer(name="Carrozzeria Chiusa", active=False)
    f.outbox_email(recipients="a@example.it", subject="Prova", body="Testo", status="pending",
                   created_at=dt.datetime(2026, 3, 29, 1, 30))
    login(client, f.user(Role.ADMIN))
    rows = export(client, "/admin/repairer/export/csv/")
    active = {row[rows[0].index("Ragione sociale")]: row[rows[0].index("Attivo")] for row in rows[1:]}
    assert active == {"Carrozzeria Attiva": "Sì", "Carrozzeria Chiusa": "No"}
    rows = export(client, "/admin/outbox/export/csv/")
    row = dict(zip(rows[0], rows[1]))
    assert "In attesa" in row.values() and "29/03/2026 03:30" in row.values()


@pytest.mark.parametrize("value, cell", [
    (Decimal("1500.00"), "1500,00"),
    (Decimal("1234567.5"), "1234567,5"),
    (Decimal("-12.50"), "-12,50"),       # a negative amount is a number, not a formula
    (True, "Sì"), (False, "No"),
    (dt.date(2026, 10, 12), "12/10/2026"),
    (dt.datetime(2026, 10, 25, 1, 30), "25/10/2026 02:30"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("Mario", "Mario"), (7, 7), (None, None),
])
def test_an_exported_cell_is_written_for_italian_excel(app, value, cell):
    from admin_views.csv_export import export_cell
    with app.test_request_context():
        assert export_cell(Claim, "notes", value) == cell


def test_an_exported_choice_is_its_italian_label(app):
    from admin_views.csv_export import export_cell
    with app.test_request_context():
        assert str(export_cell(OutboundEmail, "status", "failed")) == "Non inviata"


def test_a_details_page_without_formatters_shows_dates_in_rome_time(client, f):
    email = f.outbox_email(recipients="a@example.it", subject="Prova", body="Testo",
                           created_at=dt.datetime(2026, 10, 25, 1, 30), sent_at=dt.datetime(2026, 3, 29, 1, 30))
    login(client, f.user(Role.ADMIN))
    page = client.get(f"/admin/outbox/details/?id={email.id}").get_data(as_text=True)
    assert "25/10/2026 02:30" in page and "29/03/2026 03:30" in page
