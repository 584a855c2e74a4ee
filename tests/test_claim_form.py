"""The claim entered by hand follows the Modulo Blu: sections, required fields, no party
chosen for the clerk, the 17 circumstances as boxes with their wording."""
from __future__ import annotations

import re

import pytest

from models import Claim, Role, StatusChange
from workflows import circumstances, claim_letter, claims_office

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


# ---- the art. 149 verdict and who pays, for a claim entered by hand -----------------------------

@pytest.fixture
def insurers(desk):
    return {"a": desk.f.insurer(name="Assicurazioni Alfa", claims_pec="sinistri@pec.alfa.example.it"),
            "b": desk.f.insurer(name="Beta Assicurazioni", claims_pec="sinistri@pec.beta.example.it")}


def claim_data(desk, insurers, **changes) -> dict:
    """The form of a hand-entered claim: two Italian cars, both insured, nobody hurt, no debtor chosen."""
    return {"customer_name": "Anna Gialli", "accident_date": "01/10/2026", "vehicle_count": 2,
            "vehicle_a_plate": "FG321HK", "vehicle_a_country": "I", "vehicle_a_insurer": insurers["a"].id,
            "vehicle_b_plate": "AB123CD", "vehicle_b_country": "I", "vehicle_b_insurer": insurers["b"].id,
            "insurer": "__None", **changes}


def enter(client, desk, insurers, **changes) -> Claim:
    data = {"csrf_token": csrf_token(client, "/admin/claim/new/"), "repairer": desk.repairer.id,
            "asp_centre": desk.centre.id, **claim_data(desk, insurers, **changes)}
    response = client.post("/admin/claim/new/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return Claim.select().order_by(Claim.id.desc()).get()


def edit(client, claim, desk, insurers, **changes) -> Claim:
    url = f"/admin/claim/edit/?id={claim.id}"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), **claim_data(desk, insurers, **changes)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return Claim.get_by_id(claim.id)


def card_row(page: str, label: str) -> str:
    """The text of the claim page's row `label` (its cell), tags dropped."""
    row = re.search(rf"<th[^>]*>{re.escape(label)}</th>\s*<td>(.*?)</td>", page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", row.group(1)).split()) if row else ""


def test_a_claim_entered_by_hand_is_assessed_when_saved_and_its_page_shows_the_verdict(client, desk, insurers):
    desk.f.claim(desk.repairer, desk.centre)  # the body shop already works with the centre
    login(client, desk.users[Role.ASP_MANAGER])
    claim = enter(client, desk, insurers)
    assert claim.direct_compensation is True
    assert claim.direct_compensation_reason.startswith("Indennizzo diretto (art. 149 CdA): due veicoli a motore")
    assert (claim.insurer_id, claim.insurer_by_hand) == (insurers["a"].id, False)  # direct: the claimant's own insurer
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert card_row(page, "Valutazione del portale") == "Sì"
    assert card_row(page, "Motivo").startswith("Indennizzo diretto (art. 149 CdA)")
    assert card_row(page, "Compagnia debitrice") == \
        "Assicurazioni Alfa — assicuratrice del veicolo A, Indennizzo diretto (art. 149 CdA)"


def test_an_edit_that_changes_what_the_assessment_reads_recomputes_it_in_the_same_save(client, desk, insurers):
    desk.f.claim(desk.repairer, desk.centre)  # the body shop already works with the centre
    login(client, desk.users[Role.ASP_MANAGER])
    claim = enter(client, desk, insurers)
    claim = edit(client, claim, desk, insurers, notes="Sentito il cliente.")  # nothing the assessment reads
    assert not StatusChange.select().where(StatusChange.claim == claim, StatusChange.event == "reassessed").exists()
    claim = edit(client, claim, desk, insurers, vehicle_count=3)
    assert claim.direct_compensation is False and "3 veicoli coinvolti" in claim.direct_compensation_reason
    assert claim.insurer_id == insurers["b"].id  # ordinary: the other driver's insurer
    [row] = StatusChange.select().where(StatusChange.claim == claim, StatusChange.event == "reassessed")
    assert row.note.startswith("Valutazione del portale: «Sì» → «No». Procedura ordinaria (art. 148 CdA)")
    assert "Compagnia debitrice: «Assicurazioni Alfa» → «Beta Assicurazioni»." in row.note
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert card_row(page, "Valutazione del portale") == "No"
    assert "Valutazione del portale: «Sì» → «No»" in page  # in the history


def test_a_hand_entered_ordinary_claims_debtor_and_letter_addressee_agree(client, desk, insurers):
    """The defect: the debtor said one insurer, the letter and the PEC went to another."""
    login(client, desk.users[Role.ADMIN])
    typed = enter(client, desk, insurers, vehicle_count=3, insurer=insurers["a"].id, customer_name="Paolo Neri")
    assert claim_letter.addressee(typed).name == typed.insurer.name  # was: debtor Alfa, letter to Beta
    assert typed.direct_compensation is False
    assert (typed.insurer_id, typed.insurer_by_hand) == (insurers["a"].id, True)  # chosen by hand: it wins
    assert claim_letter.addressee(typed).name == "Assicurazioni Alfa"
    assert claims_office.addresses(typed)[0].address == "sinistri@pec.alfa.example.it"  # its PEC first
    page = client.get(f"/admin/claim/details/?id={typed.id}").get_data(as_text=True)
    assert card_row(page, "Compagnia debitrice") == "Assicurazioni Alfa — indicata a mano"
    blank = enter(client, desk, insurers, vehicle_count=3, customer_name="Luisa Bassi")
    assert blank.insurer_id == insurers["b"].id  # was: no debtor, the letter to Beta
    assert claim_letter.addressee(blank).name == "Beta Assicurazioni"
    assert claims_office.addresses(blank)[0].address == "sinistri@pec.beta.example.it"
    back = edit(client, typed, desk, insurers, vehicle_count=3, customer_name="Paolo Neri")  # debtor chosen none
    assert (back.insurer_id, back.insurer_by_hand) == (insurers["b"].id, False)
    assert claim_letter.addressee(back).name == "Beta Assicurazioni"


def test_the_debtor_left_blank_is_named_by_the_procedure(client, desk):
    login(client, desk.users[Role.ADMIN])
    form = entry_form(client)
    assert selected(form, "insurer") in (None, "__None") and "— secondo la procedura (veicolo A o B) —" in form
