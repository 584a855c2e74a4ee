"""The claim entered by hand follows the Modulo Blu: sections, required fields, no party
chosen for the clerk, the 17 circumstances as boxes with their wording."""
from __future__ import annotations

import re

from models import Claim, Role
from workflows import circumstances

from .conftest import csrf_token, login
from .test_workflows import desk  # noqa: F401 - fixture

SECTIONS = ["Soggetti", "Cliente (danneggiato)", "Sinistro", "Veicolo A (del cliente)", "Veicolo B (controparte)",
            "Feriti", "Danni alla persona", "Importi", "Note"]


def entry_form(client) -> str:
    page = client.get("/admin/claim/new/").get_data(as_text=True)
    start = page.index('class="admin-form')
    return page[start:page.index("</form>", start)]


def selected(form: str, name: str) -> str | None:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', form, re.S).group(1)
    chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select)
    return None if chosen is None else (chosen.group(1) or chosen.group(2) or "")


def test_the_entry_form_has_the_modulo_blus_sections_in_order_and_its_csrf_token(client, desk):
    login(client, desk.users[Role.ADMIN])
    form = entry_form(client)
    assert re.findall(r"<h3>(.*?)</h3>", form) == SECTIONS
    assert 'name="csrf_token"' in form  # inside the form: without it the browser's post is refused


def test_no_party_is_chosen_for_the_call_centre_and_a_manager_gets_its_own_centre(client, desk):
    desk.f.claim(desk.repairer, desk.centre)
    login(client, desk.users[Role.ADMIN])
    form = entry_form(client)
    assert selected(form, "repairer") in (None, "__None") and "— scegli la carrozzeria —" in form
    assert selected(form, "asp_centre") in (None, "__None")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    login(client, desk.users[Role.ASP_MANAGER])
    form = entry_form(client)
    assert selected(form, "asp_centre") == str(desk.centre.id) and selected(form, "repairer") in (None, "__None")


def test_an_empty_form_cannot_be_saved_and_says_what_is_required(client, desk):
    login(client, desk.users[Role.ADMIN])
    form = entry_form(client)
    for name in ("repairer", "asp_centre", "customer_name", "accident_date", "vehicle_a_plate"):
        assert re.search(rf'<(input|select)[^>]*name="{name}"[^>]*required', form), name
    before = Claim.select().count()
    response = client.post("/admin/claim/new/", data={"csrf_token": csrf_token(client, "/admin/claim/new/")})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.count("Campo obbligatorio.") >= 5
    assert Claim.select().count() == before


def test_the_circumstances_are_ticked_by_their_official_wording_and_kept_as_numbers(client, desk):
    desk.f.claim(desk.repairer, desk.centre)
    login(client, desk.users[Role.ASP_MANAGER])
    form = entry_form(client)
    for side in ("a", "b"):
        boxes = re.findall(rf'<input[^>]*name="vehicle_{side}_circumstances"[^>]*type="checkbox"|'
                           rf'<input[^>]*type="checkbox"[^>]*name="vehicle_{side}_circumstances"', form)
        assert len(boxes) == 17, side
    assert "8. tamponava procedendo nello stesso senso e nella stessa fila" in form
    response = client.post("/admin/claim/new/", data={
        "csrf_token": csrf_token(client, "/admin/claim/new/"), "repairer": desk.repairer.id,
        "asp_centre": desk.centre.id, "customer_name": "Anna Gialli", "accident_date": "01/10/2026",
        "vehicle_a_plate": "FG321HK", "vehicle_count": 2, "vehicle_a_country": "I", "vehicle_b_country": "I",
        "vehicle_a_circumstances": ["13", "5"], "vehicle_b_circumstances": ["8"]})
    assert response.status_code == 302
    claim = Claim.get(Claim.customer_name == "Anna Gialli")
    assert (claim.vehicle_a_circumstances, claim.vehicle_b_circumstances) == ("5,13", "8")
    edit = client.get(f"/admin/claim/edit/?id={claim.id}").get_data(as_text=True)
    ticked = re.findall(r'<input[^>]*checked[^>]*name="vehicle_a_circumstances"[^>]*value="(\d+)"|'
                        r'<input[^>]*name="vehicle_a_circumstances"[^>]*value="(\d+)"[^>]*checked', edit)
    assert sorted(int(a or b) for a, b in ticked) == [5, 13]
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert circumstances.WORDINGS[13] in page and circumstances.WORDINGS[5] in page


def test_an_unknown_circumstance_is_refused(client, desk):
    desk.f.claim(desk.repairer, desk.centre)
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.post("/admin/claim/new/", data={
        "csrf_token": csrf_token(client, "/admin/claim/new/"), "repairer": desk.repairer.id,
        "asp_centre": desk.centre.id, "customer_name": "Anna Gialli", "accident_date": "01/10/2026",
        "vehicle_a_plate": "FG321HK", "vehicle_count": 2, "vehicle_a_country": "I", "vehicle_b_country": "I",
        "vehicle_a_circumstances": ["18"]})
    assert response.status_code == 200 and not Claim.select().where(Claim.customer_name == "Anna Gialli").exists()


def test_the_workflows_own_fields_are_never_in_the_form(client, desk):
    login(client, desk.users[Role.ADMIN])
    form = entry_form(client)
    for name in ("missing_items", "possible_duplicates", "outcome_reason", "direct_compensation", "status",
                 "number", "next_due_on"):
        assert f'name="{name}"' not in form, name
