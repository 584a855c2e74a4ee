"""The admin grids through the test client: columns, filters, search, export, forms."""
from __future__ import annotations

import datetime as dt

import pytest

from models import Claim, ClaimStatus, InsuranceCompany, Role, StatusChange

from .conftest import QueryCounter, csrf_token, login


@pytest.fixture
def desk(f, client):
    centre = f.centre(name="Centro Alfa")
    repairer = f.repairer(name="Carrozzeria Rossi")
    lawyer = f.lawyer(centre, name="Avv. Bianchi")
    insurer = f.insurer(name="Compagnia Uno")
    manager = f.user(Role.ASP_MANAGER, asp_centre=centre)
    login(client, manager)
    return centre, repairer, lawyer, insurer, manager


def make_claims(f, n, centre, repairer, **kw):
    return [f.claim(repairer, centre, **kw) for _ in range(n)]


def test_the_grid_shows_the_columns_a_clerk_needs_in_italian(client, f, desk):
    centre, repairer, lawyer, insurer, _ = desk
    claim = f.claim(repairer, centre, lawyer=lawyer, insurer=insurer, vehicle_a_plate="AB123CD")
    page = client.get("/admin/claim/").get_data(as_text=True)
    for text in ("Numero", "Ricevuta", "Carrozzeria", "Centro ASP", "Legale", "Stato", "Targa",
                 "Compagnia", "Giorni nello stato", claim.number, "Carrozzeria Rossi", "Avv. Bianchi",
                 "Compagnia Uno", "AB123CD", 'class="badge badge-primary status-received"', "0 giorni"):
        assert text in page, text


def test_the_page_size_menu_speaks_italian_too(client, desk):
    from admin_views.base import GessinModelView
    page = client.get("/admin/claim/").get_data(as_text=True)
    menu = page[page.index("page_size=") - 300:]
    menu = menu[:menu.index("</div>")]
    assert [f"{n} elementi" in menu for n in GessinModelView.page_size_options] == \
        [True] * len(GessinModelView.page_size_options)
    assert "items" not in menu


def test_the_query_count_of_a_page_does_not_grow_with_its_size(client, f, desk):
    centre, repairer, lawyer, insurer, _ = desk
    make_claims(f, 120, centre, repairer, lawyer=lawyer, insurer=insurer)
    counts = {}
    for size in (20, 100):
        with QueryCounter() as queries:
            response = client.get(f"/admin/claim/?page_size={size}")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count("/admin/claim/details/?id=") >= size
        counts[size] = queries.count
    assert counts[20] == counts[100], counts


def test_filters_search_and_sort(client, f, desk):
    centre, repairer, lawyer, insurer, _ = desk
    plain = f.claim(repairer, centre, customer_name="Giulia Verdi", vehicle_a_plate="ZZ999ZZ")
    other = f.claim(repairer, centre, customer_name="Paolo Neri", insurer=insurer, wincar_ref="WC-77")
    page = client.get("/admin/claim/?search=verdi").get_data(as_text=True)
    assert plain.number in page and other.number not in page
    page = client.get("/admin/claim/?search=ZZ999").get_data(as_text=True)
    assert plain.number in page and other.number not in page
    page = client.get("/admin/claim/?search=WC-77").get_data(as_text=True)
    assert other.number in page and plain.number not in page
    page = client.get(f"/admin/claim/?flt0_4={insurer.id}").get_data(as_text=True)
    assert other.number in page and plain.number not in page
    page = client.get("/admin/claim/?flt0_0=validated").get_data(as_text=True)
    assert plain.number not in page and other.number not in page
    page = client.get("/admin/claim/?sort=0").get_data(as_text=True)
    assert page.index(plain.number) < page.index(other.number)
    page = client.get("/admin/claim/?sort=0&desc=1").get_data(as_text=True)
    assert page.index(other.number) < page.index(plain.number)


def test_a_claim_number_or_a_whole_plate_is_found_exactly(client, f, desk):
    centre, repairer, *_ = desk
    first = f.claim(repairer, centre, vehicle_b_plate="KL456MN")
    second = f.claim(repairer, centre)
    year, seq = first.number.split("/")
    page = client.get(f"/admin/claim/?search={year}/{int(seq)}").get_data(as_text=True)
    assert first.number in page and second.number not in page
    page = client.get("/admin/claim/?search=kl456mn").get_data(as_text=True)
    assert first.number in page and second.number not in page


def test_an_unsortable_column_falls_back_to_the_default_order(client, f, desk):
    centre, repairer, *_ = desk
    claim = f.claim(repairer, centre)
    response = client.get("/admin/claim/?sort=2")
    assert response.status_code == 200 and claim.number in response.get_data(as_text=True)


def test_date_range_filter_on_received(client, f, desk):
    centre, repairer, *_ = desk
    old, new = f.claim(repairer, centre), f.claim(repairer, centre)
    Claim.update(received_at=dt.datetime(2025, 3, 10, 9)).where(Claim.id == old.id).execute()
    page = client.get("/admin/claim/?flt0_5=2025-03-01+to+2025-03-31").get_data(as_text=True)
    assert old.number in page and new.number not in page


def test_csv_export_has_italian_headers_and_labels(client, f, desk):
    centre, repairer, *_ = desk
    claim = f.claim(repairer, centre)
    csv = client.get("/admin/claim/export/csv/").get_data(as_text=True)
    header = csv.splitlines()[0]
    assert "Numero" in header and "Stato" in header
    assert claim.number in csv and "Ricevuta" in csv


def test_status_is_never_an_editable_field(client, f, desk):
    centre, repairer, *_ = desk
    claim = f.claim(repairer, centre)
    form = client.get(f"/admin/claim/edit/?id={claim.id}").get_data(as_text=True)
    assert 'name="status"' not in form and 'name="number"' not in form and 'name="lawyer"' not in form
    client.post(f"/admin/claim/edit/?id={claim.id}", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "status": "reimbursed", "number": "X",
        "repairer": repairer.id, "asp_centre": centre.id, "customer_name": "Nuovo Nome",
        "vehicle_count": 2, "vehicle_a_country": "I", "vehicle_b_country": "I",
    })
    saved = Claim.get_by_id(claim.id)
    assert saved.customer_name == "Nuovo Nome"
    assert (saved.status, saved.number) == (ClaimStatus.RECEIVED, claim.number)
    assert saved.version == claim.version + 1


def test_an_edit_on_a_stale_version_is_refused(client, f, desk):
    centre, repairer, *_ = desk
    claim = f.claim(repairer, centre, customer_name="Originale")
    form_data = {"csrf_token": csrf_token(client, "/admin/claim/"), "repairer": repairer.id,
                 "asp_centre": centre.id, "vehicle_count": 2, "vehicle_a_country": "I", "vehicle_b_country": "I"}
    # Someone else saves between our read and our write.
    from admin_views.claims import ClaimView
    original = ClaimView.get_one

    def read_then_race(view, id):
        row = original(view, id)
        Claim.update(version=Claim.version + 1, customer_name="Altro utente").where(Claim.id == row.id).execute()
        return row

    ClaimView.get_one = read_then_race
    try:
        response = client.post(f"/admin/claim/edit/?id={claim.id}", data={**form_data, "customer_name": "Mio"},
                               follow_redirects=True)
    finally:
        ClaimView.get_one = original
    assert "modificata da un altro utente" in response.get_data(as_text=True)
    assert Claim.get_by_id(claim.id).customer_name == "Altro utente"


def test_a_manager_picks_only_repairers_working_with_its_centre(client, f, desk):
    centre, repairer, *_ = desk
    stranger = f.repairer(name="Carrozzeria Sconosciuta")
    f.claim(repairer, centre)
    form = client.get("/admin/claim/new/").get_data(as_text=True)
    assert "Carrozzeria Rossi" in form and "Carrozzeria Sconosciuta" not in form
    response = client.post("/admin/claim/new/", data={
        "csrf_token": csrf_token(client, "/admin/claim/new/"), "repairer": stranger.id, "asp_centre": centre.id,
        "customer_name": "Non Mio", "vehicle_count": 2, "vehicle_a_country": "I", "vehicle_b_country": "I"})
    assert response.status_code == 200
    assert not Claim.select().where(Claim.customer_name == "Non Mio").exists()


def test_a_claim_entered_by_hand_gets_a_number_and_history(client, f, desk):
    centre, repairer, lawyer, insurer, manager = desk
    f.claim(repairer, centre)  # the repairer already works with this centre
    response = client.post("/admin/claim/new/", data={
        "csrf_token": csrf_token(client, "/admin/claim/new/"), "repairer": repairer.id, "asp_centre": centre.id,
        "insurer": insurer.id, "customer_name": "Anna Gialli", "vehicle_a_plate": "fg 321 hk",
        "accident_date": "2026-10-01", "estimate_amount": "1.520,40",
        "vehicle_count": 2, "vehicle_a_country": "I", "vehicle_b_country": "I",
    })
    assert response.status_code == 302
    claim = Claim.get(Claim.customer_name == "Anna Gialli")
    assert claim.number.endswith("/000002") and claim.status == ClaimStatus.RECEIVED
    assert claim.vehicle_a_plate == "FG321HK" and str(claim.estimate_amount) == "1520.40"
    assert StatusChange.get(StatusChange.claim == claim).actor_id == manager.id
    assert response.headers["Location"].endswith(f"/admin/claim/details/?id={claim.id}")


def test_invalid_data_gets_an_italian_message_and_saves_nothing(client, f, desk):
    centre, repairer, *_ = desk
    f.claim(repairer, centre)
    response = client.post("/admin/claim/new/", data={
        "csrf_token": csrf_token(client, "/admin/claim/new/"), "repairer": repairer.id, "asp_centre": centre.id,
        "customer_name": "Targa Sbagliata", "vehicle_a_plate": "??", "vehicle_count": 2, "accident_date": "01/10/2026",
        "vehicle_a_country": "I", "vehicle_b_country": "I",
    })
    assert "Targa non valida" in response.get_data(as_text=True)
    assert not Claim.select().where(Claim.customer_name == "Targa Sbagliata").exists()


def test_the_home_page_counts_claims_per_state_with_links(client, f, desk):
    centre, repairer, *_ = desk
    make_claims(f, 3, centre, repairer)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Pratiche per stato" in page
    assert 'data-status="received"' in page and "flt0_0=received" in page
    assert "Totale pratiche visibili: 3" in page


def test_only_the_call_centre_edits_insurers(client, f, desk):
    response = client.post("/admin/insurer/new/", data={
        "csrf_token": csrf_token(client, "/admin/insurer/"), "name": "Nuova Compagnia"})
    assert not InsuranceCompany.select().where(InsuranceCompany.name == "Nuova Compagnia").exists()
    assert response.status_code in (302, 403)


def test_a_manager_adds_a_lawyer_who_then_works_for_its_centre(client, f, desk):
    centre, *_ = desk
    response = client.post("/admin/lawyer/new/", data={
        "csrf_token": csrf_token(client, "/admin/lawyer/new/"), "name": "Studio Legale Nuovo",
        "kind": "firm", "email": "studio@example.it", "active": "y"})
    assert response.status_code == 302
    page = client.get("/admin/lawyer/").get_data(as_text=True)
    assert "Studio Legale Nuovo" in page
    from models import Lawyer, LawyerCentre
    lawyer = Lawyer.get(Lawyer.name == "Studio Legale Nuovo")
    assert [link.asp_centre_id for link in LawyerCentre.select().where(LawyerCentre.lawyer == lawyer)] == [centre.id]


def test_search_boxes_say_what_they_search(client, f, desk):
    assert 'placeholder="Numero, targa, cliente o rif. WinCar"' in client.get("/admin/claim/").get_data(as_text=True)
    assert 'placeholder="Cerca in: Nome o studio, E-mail"' in client.get("/admin/lawyer/").get_data(as_text=True)


def test_several_states_at_once_and_all_open_ones(client, f, desk):
    from admin_views.filters import StatesFilter
    from admin_views.claims import ClaimView
    centre, repairer, *_ = desk
    received, closed, dropped = (f.claim(repairer, centre, customer_name=n) for n in ("Aperta Uno", "Chiusa Due",
                                                                                        "Senza Tre"))
    Claim.update(status=ClaimStatus.CLOSED).where(Claim.id == closed.id).execute()
    Claim.update(status=ClaimStatus.DROPPED).where(Claim.id == dropped.id).execute()
    index = next(i for i, flt in enumerate(ClaimView.column_filters) if isinstance(flt, StatesFilter))
    page = client.get(f"/admin/claim/?flt0_{index}=closed,dropped").get_data(as_text=True)
    assert closed.number in page and dropped.number in page and received.number not in page
    page = client.get(f"/admin/claim/?flt0_{index}=open").get_data(as_text=True)
    assert received.number in page and closed.number not in page and dropped.number not in page


def test_days_in_state_descending_puts_the_longest_waiting_first(client, f, desk):
    import datetime as dt
    from admin_views.claims import ClaimView
    centre, repairer, *_ = desk
    fresh, old = f.claim(repairer, centre, customer_name="Da Poco"), f.claim(repairer, centre, customer_name="Da Tanto")
    Claim.update(status_since=old.status_since - dt.timedelta(days=30)).where(Claim.id == old.id).execute()
    column = ClaimView.column_list.index("status_since")
    page = client.get(f"/admin/claim/?sort={column}&desc=1").get_data(as_text=True)
    assert page.index(old.number) < page.index(fresh.number)  # 30 giorni before 0 giorni
    page = client.get(f"/admin/claim/?sort={column}").get_data(as_text=True)
    assert page.index(fresh.number) < page.index(old.number)


def test_the_party_columns_sort_by_name(client, f, desk):
    from admin_views.claims import ClaimView
    centre, *_ = desk
    zeta, alfa = f.repairer(name="Zeta Carrozzeria"), f.repairer(name="alfa carrozzeria")
    last, first = f.claim(zeta, centre), f.claim(alfa, centre)
    column = ClaimView.column_list.index("repairer")
    page = client.get(f"/admin/claim/?sort={column}").get_data(as_text=True)
    assert page.index(first.number) < page.index(last.number)  # case aside: alfa before Zeta
    page = client.get(f"/admin/claim/?sort={column}&desc=1").get_data(as_text=True)
    assert page.index(last.number) < page.index(first.number)
    for name in ("asp_centre", "lawyer", "insurer"):
        assert client.get(f"/admin/claim/?sort={ClaimView.column_list.index(name)}").status_code == 200
