"""Everyone sees only what is theirs: lists, counts, details, edits, exports, downloads, lookups."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from models import Claim, Role
from workflows.attachments import store_attachment

from .conftest import csrf_token, login

PDF = b"%PDF-1.4 documento di prova"


@pytest.fixture
def world(f, app):
    centre_a, centre_b = f.centre(name="Centro Alfa"), f.centre(name="Centro Beta")
    repairer_a, repairer_b = f.repairer(name="Carrozzeria Alfa"), f.repairer(name="Carrozzeria Beta")
    lawyer_a, lawyer_b = f.lawyer(centre_a, name="Avv. Alfa"), f.lawyer(centre_b, name="Avv. Beta")
    mine_entrusted = f.claim(repairer_a, centre_a, lawyer=lawyer_a, customer_name="Cliente Uno")
    mine_waiting = f.claim(repairer_a, centre_a, customer_name="Cliente Due")
    theirs = f.claim(repairer_b, centre_b, lawyer=lawyer_b, customer_name="Cliente Tre")
    storage = app.config["STORAGE_DIR"]
    return SimpleNamespace(
        centre_a=centre_a, centre_b=centre_b, repairer_a=repairer_a, repairer_b=repairer_b,
        lawyer_a=lawyer_a, lawyer_b=lawyer_b,
        mine_entrusted=mine_entrusted, mine_waiting=mine_waiting, theirs=theirs,
        my_doc=store_attachment(mine_entrusted, "denuncia", "denuncia.pdf", PDF, storage_dir=storage),
        their_doc=store_attachment(theirs, "denuncia", "denuncia-beta.pdf", PDF, storage_dir=storage),
        users={
            "admin": f.user(Role.ADMIN),
            "asp_manager": f.user(Role.ASP_MANAGER, asp_centre=centre_a),
            "lawyer": f.user(Role.LAWYER, lawyer=lawyer_a),
            "repairer": f.user(Role.REPAIRER, repairer=repairer_a),
        },
    )


def visible_numbers(world, role):
    return {
        "admin": {world.mine_entrusted.number, world.mine_waiting.number, world.theirs.number},
        "asp_manager": {world.mine_entrusted.number, world.mine_waiting.number},
        "lawyer": {world.mine_entrusted.number},
        "repairer": {world.mine_entrusted.number, world.mine_waiting.number},
    }[role]


def all_numbers(world):
    return {world.mine_entrusted.number, world.mine_waiting.number, world.theirs.number}


ROLES = ("admin", "asp_manager", "lawyer", "repairer")


@pytest.mark.parametrize("role", ROLES)
def test_the_claims_grid_lists_and_counts_only_visible_claims(client, world, role):
    login(client, world.users[role])
    page = client.get("/admin/claim/").get_data(as_text=True)
    expected = visible_numbers(world, role)
    assert {n for n in all_numbers(world) if n in page} == expected
    home = client.get("/admin/").get_data(as_text=True)
    assert f">{len(expected)}<" in home.replace(" ", "").replace("\n", "")


@pytest.mark.parametrize("role", ROLES)
def test_the_csv_export_holds_only_visible_claims(client, world, role):
    login(client, world.users[role])
    response = client.get("/admin/claim/export/csv/")
    assert response.status_code == 200
    csv = response.get_data(as_text=True)
    assert {n for n in all_numbers(world) if n in csv} == visible_numbers(world, role)


@pytest.mark.parametrize("role", ("asp_manager", "lawyer", "repairer"))
def test_a_guessed_id_of_someone_elses_claim_gives_404(client, world, role):
    login(client, world.users[role])
    other = world.theirs.id
    assert client.get(f"/admin/claim/details/?id={other}").status_code == 404
    edit = client.get(f"/admin/claim/edit/?id={other}")
    assert edit.status_code in (302, 404)
    assert world.theirs.customer_name not in edit.get_data(as_text=True)
    posted = client.post(f"/admin/claim/edit/?id={other}", data={
        "customer_name": "Rubata", "csrf_token": csrf_token(client, "/admin/claim/")})
    assert posted.status_code in (302, 403, 404)
    assert Claim.get_by_id(other).customer_name == "Cliente Tre"


@pytest.mark.parametrize("role", ("asp_manager", "lawyer", "repairer"))
def test_attachment_downloads_are_scoped(client, world, role):
    login(client, world.users[role])
    assert client.get(f"/admin/claim/attachment/{world.their_doc.id}").status_code == 404
    mine = client.get(f"/admin/claim/attachment/{world.my_doc.id}")
    assert mine.status_code == 200
    assert mine.data == PDF
    assert "denuncia.pdf" in mine.headers["Content-Disposition"]


def test_the_claim_page_shows_its_own_data(client, world):
    login(client, world.users["asp_manager"])
    page = client.get(f"/admin/claim/details/?id={world.mine_entrusted.id}").get_data(as_text=True)
    for text in (world.mine_entrusted.number, "Cliente Uno", "Carrozzeria Alfa", "Avv. Alfa",
                 "Modulo Blu", "Allegati", "Storico", "Ricevuta", f"/admin/claim/attachment/{world.my_doc.id}"):
        assert text in page


@pytest.mark.parametrize("path, hidden", [
    ("/admin/aspcentre/", "Centro Beta"),
    ("/admin/repairer/", "Carrozzeria Beta"),
    ("/admin/lawyer/", "Avv. Beta"),
    ("/admin/history/", "Cliente Tre"),
])
def test_party_grids_of_a_centre_hide_other_centres(client, world, path, hidden):
    login(client, world.users["asp_manager"])
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert hidden not in page
    if path == "/admin/history/":
        assert world.theirs.number not in page and world.mine_waiting.number in page


def test_filter_options_and_form_pickers_list_only_visible_parties(client, world):
    login(client, world.users["asp_manager"])
    grid = client.get("/admin/claim/").get_data(as_text=True)
    assert "Centro Alfa" in grid and "Avv. Alfa" in grid
    assert "Centro Beta" not in grid and "Avv. Beta" not in grid and "Carrozzeria Beta" not in grid
    form = client.get("/admin/claim/new/").get_data(as_text=True)
    assert "Centro Alfa" in form and "Centro Beta" not in form


def test_a_centre_cannot_file_a_claim_for_another_centre(client, world):
    login(client, world.users["asp_manager"])
    before = Claim.select().count()
    response = client.post("/admin/claim/new/", data={
        "csrf_token": csrf_token(client, "/admin/claim/new/"),
        "repairer": world.repairer_a.id, "asp_centre": world.centre_b.id,
        "customer_name": "Intruso", "vehicle_count": 2, "vehicle_a_country": "I", "vehicle_b_country": "I",
    })
    assert response.status_code == 200
    assert Claim.select().count() == before


def test_a_repairer_reads_but_never_edits(client, world):
    login(client, world.users["repairer"])
    own = world.mine_waiting
    grid = client.get("/admin/claim/").get_data(as_text=True)
    assert "/admin/claim/edit/" not in grid and "/admin/claim/new/" not in grid
    client.post(f"/admin/claim/edit/?id={own.id}", data={
        "customer_name": "Cambiato", "csrf_token": csrf_token(client, "/admin/claim/")})
    assert Claim.get_by_id(own.id).customer_name == "Cliente Due"


@pytest.mark.parametrize("role", ("asp_manager", "lawyer", "repairer"))
def test_only_the_call_centre_manages_users(client, world, role):
    login(client, world.users[role])
    assert client.get("/admin/user/").status_code == 403
    assert client.get("/admin/intake/").status_code == 403


def test_logged_out_visitors_are_sent_to_the_login_page(client, world):
    response = client.get(f"/admin/claim/details/?id={world.theirs.id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_duplicate_warnings_show_only_numbers_the_user_may_open(client, world):
    Claim.update(possible_duplicates=f"{world.theirs.number},{world.mine_waiting.number}") \
        .where(Claim.id == world.mine_entrusted.id).execute()
    login(client, world.users["asp_manager"])
    page = client.get(f"/admin/claim/details/?id={world.mine_entrusted.id}").get_data(as_text=True)
    assert world.mine_waiting.number in page and world.theirs.number not in page
    assert "1 pratica di un altro centro" in page
