"""Insurers' names WinCar sends: kept as sent, matched to the registry, mapped once by the call centre."""
from __future__ import annotations

import re

import pytest

from models import Claim, ClaimStatus, InsuranceCompany, InsurerAlias, Repairer, Role, StatusChange
from workflows import credentials, insurers
from workflows.direct_compensation import apply_verdict
from workflows.errors import InvalidData, NotAllowed

from .conftest import csrf_token, login
from .test_browser import live_server, page  # noqa: F401 (fixtures)
from .test_intake import PASSWORD, payload, post


@pytest.fixture
def wincar(f, app, tmp_path, monkeypatch):
    """A repairer with WinCar credentials and its centre; the registry holds only what each test adds."""
    monkeypatch.setitem(app.config, "STORAGE_DIR", str(tmp_path / "storage"))
    centre, repairer = f.centre(name="Centro ASP Roma"), f.repairer(name="Carrozzeria Bianchi")
    Repairer.update(wincar_user="CARR001", wincar_password_hash=credentials.hash_password(PASSWORD)) \
        .where(Repairer.id == repairer.id).execute()
    return centre


def send(client, centre, ref, a="Assicurazioni Generali", b="UnipolSai", **accident):
    body = payload(centre, wincar_ref=ref)
    body["accident"]["vehicle_a"]["insurer"], body["accident"]["vehicle_b"]["insurer"] = a, b
    body["accident"].update(accident)
    response = post(client, body)
    assert response.status_code == 201, response.json
    return Claim.get(Claim.number == response.json["number"])


# ---- normalising ------------------------------------------------------------------------

@pytest.mark.parametrize("one, other", [
    ("UnipolSai Assicurazioni", "UnipolSai"),
    ("UnipolSai Assicurazioni S.p.A.", "unipolsai"),
    ("Unipol Sai", "UNIPOLSAI"),
    ("Assicurazioni Generali", "Generali S. p. A."),
    ("Società Cattolica", "Societa  cattolica"),
    ("Allianz SE", "allianz"),
])
def test_spellings_of_one_insurer_share_a_key(one, other):
    assert insurers.normalise(one) == insurers.normalise(other) != ""


@pytest.mark.parametrize("one, other", [
    ("Generali Italia", "Generali"),  # a word that tells companies apart stays
    ("Assicurazioni", "Generali Assicurazioni"),  # a name is never stripped to nothing
    ("Compagnia <script>x</script>", "Compagnia"),
    ("!!!", "???"),  # symbols only: kept, not emptied
])
def test_different_names_keep_different_keys(one, other):
    assert insurers.normalise(one) != insurers.normalise(other)
    assert insurers.normalise(one) and insurers.normalise(other)


# ---- the intake ------------------------------------------------------------------------

def test_an_unknown_name_stays_on_the_claim_and_out_of_the_registry(client, wincar, f):
    generali = f.insurer(name="Assicurazioni Generali")
    before = sorted(i.name for i in InsuranceCompany.select())
    claim = send(client, wincar, "WC-SCRIPT", b="Compagnia <script>x</script>")
    assert sorted(i.name for i in InsuranceCompany.select()) == before
    assert (claim.vehicle_a_insurer_id, claim.vehicle_a_insurer_name) == (generali.id, "Assicurazioni Generali")
    assert (claim.vehicle_b_insurer_id, claim.vehicle_b_insurer_name) == (None, "Compagnia <script>x</script>")
    # named, so insured: direct compensation applies and the customer's own insurer pays, as before
    assert claim.direct_compensation is True and claim.insurer_id == generali.id
    login(client, f.user(Role.ASP_MANAGER, asp_centre=wincar))
    public = client.get("/admin/insurer/").get_data(as_text=True)
    assert "Assicurazioni Generali" in public
    assert "Compagnia &lt;script" not in public and "<script>x" not in public


def test_the_claim_page_shows_the_name_as_sent_flagged_and_escaped(client, wincar, f):
    claim = send(client, wincar, "WC-SCRIPT", a="Compagnia <script>x</script>", b="Altra Ignota")
    login(client, f.user(Role.ADMIN))
    html = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "<script>x</script>" not in html
    assert "Compagnia &lt;script&gt;x&lt;/script&gt;" in html
    assert html.count("insurer-unmapped") == 3  # vehicle A, vehicle B, and A again as the debtor
    assert "da abbinare" in html


def test_a_spelling_with_a_suffix_is_matched_but_an_ambiguous_one_is_not(client, wincar, f):
    unipol = f.insurer(name="UnipolSai Assicurazioni")
    f.insurer(name="AXA"), f.insurer(name="AXA Assicurazioni")  # two old rows with one key
    claim = send(client, wincar, "WC-1", a="UnipolSai", b="Axa S.p.A.")
    assert claim.vehicle_a_insurer_id == unipol.id
    assert (claim.vehicle_b_insurer_id, claim.vehicle_b_insurer_name) == (None, "Axa S.p.A.")


def test_an_inactive_insurer_is_not_matched(client, wincar, f):
    f.insurer(name="Compagnia Dismessa", active=False)
    claim = send(client, wincar, "WC-1", a="Compagnia Dismessa")
    assert claim.vehicle_a_insurer_id is None and claim.vehicle_a_insurer_name == "Compagnia Dismessa"


def test_after_the_alias_a_later_post_is_matched_at_once(client, wincar, f):
    unipol = f.insurer(name="UnipolSai Assicurazioni")
    first = send(client, wincar, "WC-1", b="Gruppo Unipol")
    assert first.vehicle_b_insurer_id is None
    insurers.map_name("Gruppo Unipol", unipol, f.user(Role.ADMIN))
    later = send(client, wincar, "WC-2", b="GRUPPO UNIPOL.")
    assert later.vehicle_b_insurer_id == unipol.id and later.vehicle_b_insurer_name == "GRUPPO UNIPOL."
    assert Claim.get_by_id(first.id).vehicle_b_insurer_id == unipol.id


def test_a_seguito_with_the_same_unknown_name_keeps_an_insurer_set_by_hand(client, wincar, f):
    chosen = f.insurer(name="Scelta a mano")
    claim = send(client, wincar, "WC-1", b="Ignota")
    Claim.update(vehicle_b_insurer=chosen).where(Claim.id == claim.id).execute()
    body = payload(wincar, wincar_ref="WC-1", event="seguito")
    body["accident"]["vehicle_b"]["insurer"] = "Ignota"
    body["customer"]["phone"] = "06 1234567"
    assert post(client, body).status_code == 200
    assert Claim.get_by_id(claim.id).vehicle_b_insurer_id == chosen.id


# ---- direct compensation ------------------------------------------------------------------

def test_an_unmapped_but_named_insurer_still_means_the_vehicle_is_insured(f):
    repairer, centre, known = f.repairer(), f.centre(), f.insurer()
    common = dict(vehicle_a_plate="AB123CD", vehicle_b_plate="EF456GH")
    mapped = Claim(repairer=repairer, asp_centre=centre, vehicle_a_insurer=known, vehicle_b_insurer=known, **common)
    named = Claim(repairer=repairer, asp_centre=centre, vehicle_a_insurer_name="Ignota A",
                  vehicle_b_insurer_name="Ignota B", **common)
    nameless = Claim(repairer=repairer, asp_centre=centre, **common)
    assert apply_verdict(named) == apply_verdict(mapped)
    assert apply_verdict(named)[0] is True
    applies, reason = apply_verdict(nameless)
    assert applies is None and "manca la compagnia del veicolo A" in reason


# ---- mapping ---------------------------------------------------------------------------

def test_mapping_a_name_updates_every_claim_that_sent_it(client, wincar, f):
    generali, unipol = f.insurer(name="Assicurazioni Generali"), f.insurer(name="UnipolSai Assicurazioni")
    admin = f.user(Role.ADMIN, full_name="Operatore Call Center")
    on_b = send(client, wincar, "WC-1", b="Gruppo Unipol")
    on_a = send(client, wincar, "WC-2", a="gruppo  unipol", b="Assicurazioni Generali")  # A pays: debtor unknown
    closed = send(client, wincar, "WC-3", a="Gruppo Unipol")
    Claim.update(status=ClaimStatus.CLOSED).where(Claim.id == closed.id).execute()
    other = send(client, wincar, "WC-4", b="Altra Ignota")
    assert on_a.insurer_id is None and on_a.direct_compensation is True
    versions = {c.id: Claim.get_by_id(c.id).version for c in (on_b, on_a, closed, other)}

    done = insurers.map_name("Gruppo Unipol", unipol, admin)

    assert (done.claims, done.insurer.id) == (3, unipol.id)
    assert Claim.get_by_id(on_b.id).vehicle_b_insurer_id == unipol.id
    assert Claim.get_by_id(on_b.id).insurer_id == generali.id  # A pays, and A was known
    assert Claim.get_by_id(on_a.id).vehicle_a_insurer_id == unipol.id
    assert Claim.get_by_id(on_a.id).insurer_id == unipol.id  # the debtor, recomputed
    assert Claim.get_by_id(on_a.id).vehicle_a_insurer_name == "gruppo  unipol"  # as sent, still
    assert Claim.get_by_id(closed.id).vehicle_a_insurer_id == unipol.id
    assert Claim.get_by_id(closed.id).insurer_id is None  # a closed file's debtor is not rewritten
    assert Claim.get_by_id(other.id).vehicle_b_insurer_id is None
    for claim in (on_b, on_a, closed):
        assert Claim.get_by_id(claim.id).version == versions[claim.id] + 1  # an open edit form sees the change
    assert Claim.get_by_id(other.id).version == versions[other.id]
    rows = {r.claim_id: r for r in StatusChange.select().where(StatusChange.event == insurers.MAPPED_EVENT)}
    assert set(rows) == {on_b.id, on_a.id}  # open claims only: a closed file's history stays as it closed
    assert "Compagnia debitrice: UnipolSai Assicurazioni" in rows[on_a.id].note
    assert rows[on_a.id].actor_id == admin.id and rows[on_a.id].to_status == ClaimStatus.RECEIVED
    alias = InsurerAlias.get()
    assert (alias.key, alias.insurer_id, alias.created_by_id) == ("gruppounipol", unipol.id, admin.id)


def test_an_incomplete_claim_that_only_lacked_its_debtor_returns_to_validation(client, wincar, f):
    from workflows import engine
    unipol = f.insurer(name="UnipolSai Assicurazioni")
    body = payload(wincar, wincar_ref="WC-1")
    body["accident"]["vehicle_a"]["insurer"] = "Gruppo Unipol"
    body["attachments"] = [{"type": k, "filename": f"{k}.pdf", "content_base64": b["content_base64"]}
                           for k in ("denuncia", "mandato", "cessione_credito", "richiesta_danni",
                                     "documento_identita") for b in body["attachments"][:1]]
    claim = Claim.get(Claim.number == post(client, body).json["number"])
    manager = f.user(Role.ASP_MANAGER, asp_centre=wincar)
    engine.apply("mark_incomplete", claim, manager, missing=["data:insurer"])
    insurers.map_name("Gruppo Unipol", unipol, f.user(Role.ADMIN))
    saved = Claim.get_by_id(claim.id)
    assert saved.insurer_id == unipol.id and saved.status == ClaimStatus.RECEIVED


def test_creating_an_insurer_from_a_name_with_a_corrected_spelling(client, wincar, f):
    admin = f.user(Role.ADMIN)
    claim = send(client, wincar, "WC-1", b="Zurik Italia")
    done = insurers.create_from_name("Zurik Italia", "Zurich Italia", admin, claims_email="sinistri@zurich.example.it")
    assert done.created and done.claims == 1
    created = InsuranceCompany.get(InsuranceCompany.name == "Zurich Italia")
    assert created.claims_email == "sinistri@zurich.example.it"
    assert created.claims_pec is None and created.claims_address is None
    assert Claim.get_by_id(claim.id).vehicle_b_insurer_id == created.id
    assert send(client, wincar, "WC-2", b="ZURIK ITALIA").vehicle_b_insurer_id == created.id  # the sent spelling
    assert send(client, wincar, "WC-3", b="Zurich Italia S.p.A.").vehicle_b_insurer_id == created.id  # the new one
    with pytest.raises(InvalidData, match="già nel registro"):
        insurers.create_from_name("Zurik", "zurich italia", admin)


@pytest.mark.parametrize("role", [Role.ASP_MANAGER, Role.LAWYER, Role.REPAIRER])
def test_only_the_call_centre_maps_names_in_the_workflow(f, role):
    centre, repairer, lawyer = f.centre(), f.repairer(), f.lawyer()
    link = {Role.ASP_MANAGER: dict(asp_centre=centre), Role.LAWYER: dict(lawyer=lawyer),
            Role.REPAIRER: dict(repairer=repairer)}[role]
    user, insurer = f.user(role, **link), f.insurer()
    for attempt in (lambda: insurers.unknown_names(user), lambda: insurers.map_name("X", insurer, user),
                    lambda: insurers.create_from_name("X", "X", user)):
        with pytest.raises(NotAllowed):
            attempt()
    assert not InsurerAlias.select().exists() and InsuranceCompany.select().count() == 1


# ---- the call centre's grid ------------------------------------------------------------

def test_the_grid_lists_each_unknown_name_with_its_claims_and_maps_it(client, wincar, f):
    unipol = f.insurer(name="UnipolSai Assicurazioni")
    f.insurer(name="Assicurazioni Generali")
    send(client, wincar, "WC-1", b="Gruppo Unipol")
    send(client, wincar, "WC-2", b="GRUPPO UNIPOL")
    mixed = send(client, wincar, "WC-3", a="Gruppo Unipol", b="Gruppo Unipol")  # one claim, counted once
    send(client, wincar, "WC-4", b="Compagnia <script>x</script>")
    login(client, f.user(Role.ADMIN))
    html = client.get("/admin/unknown-insurer/").get_data(as_text=True)
    rows = re.findall(r'<tr class="unknown-insurer">.*?</tr>', html, re.DOTALL)
    assert len(rows) == 2
    assert "Gruppo Unipol" in rows[0] and re.search(r'text-right">3<', rows[0]) and "GRUPPO UNIPOL" in rows[0]
    assert "<script>x" not in html
    response = client.post("/admin/unknown-insurer/map", data={
        "csrf_token": csrf_token(client, "/admin/unknown-insurer/"), "name": "Gruppo Unipol", "insurer": unipol.id})
    assert response.status_code == 302
    assert Claim.select().where(Claim.vehicle_b_insurer == unipol).count() == 3
    assert Claim.get_by_id(mixed.id).vehicle_a_insurer_id == unipol.id
    html = client.get("/admin/unknown-insurer/").get_data(as_text=True)
    assert "3 pratiche aggiornate" in html and html.count('<tr class="unknown-insurer">') == 1


def test_the_grid_creates_an_insurer_and_refuses_a_bad_pick(client, wincar, f):
    send(client, wincar, "WC-1", b="Zurik")
    login(client, f.user(Role.ADMIN))
    token = csrf_token(client, "/admin/unknown-insurer/")
    bad = client.post("/admin/unknown-insurer/map", data={"csrf_token": token, "name": "Zurik", "insurer": "abc"},
                      follow_redirects=True)
    assert bad.status_code == 200 and "Scegli una compagnia" in bad.get_data(as_text=True)
    huge = client.post("/admin/unknown-insurer/map", data={"csrf_token": token, "name": "Zurik", "insurer": "9" * 30},
                       follow_redirects=True)
    assert huge.status_code == 200 and "Scegli una compagnia attiva" in huge.get_data(as_text=True)
    client.post("/admin/unknown-insurer/create", data={"csrf_token": token, "name": "Zurik",
                                                      "insurer_name": "Zurich Italia", "claims_email": ""})
    assert InsuranceCompany.get(InsuranceCompany.name == "Zurich Italia").active
    assert Claim.get().vehicle_b_insurer.name == "Zurich Italia"
    bad_email = client.post("/admin/unknown-insurer/create", follow_redirects=True, data={
        "csrf_token": token, "name": "Zurik", "insurer_name": "Zurich Connect", "claims_email": "non-un-indirizzo"})
    assert "e-mail" in bad_email.get_data(as_text=True)
    assert not InsuranceCompany.select().where(InsuranceCompany.name == "Zurich Connect").exists()
    html = client.get("/admin/insurer_alias/").get_data(as_text=True)
    assert "Zurik" in html and "Zurich Italia" in html
    removed = client.post("/admin/insurer_alias/delete/", data={"csrf_token": token, "id": InsurerAlias.get().id})
    assert removed.status_code == 302 and not InsurerAlias.select().exists()
    assert Claim.get().vehicle_b_insurer.name == "Zurich Italia"  # the claims keep what the mapping gave them


def test_crea_e_abbina_stores_the_claims_offices_postal_address_e_mail_and_pec(client, wincar, f):
    send(client, wincar, "WC-1", b="Zurik")
    login(client, f.user(Role.ADMIN))
    page = client.get("/admin/unknown-insurer/").get_data(as_text=True)
    assert 'name="claims_address"' in page and 'name="claims_email"' in page and 'name="claims_pec"' in page
    client.post("/admin/unknown-insurer/create", data={
        "csrf_token": csrf_token(client, "/admin/unknown-insurer/"), "name": "Zurik", "insurer_name": "Zurich Italia",
        "claims_email": "sinistri@zurich.example.it", "claims_pec": "sinistri@pec.zurich.example.it",
        "claims_address": "  Via Benigno Crespi 23,\n 20159 Milano (MI) "})
    created = InsuranceCompany.get(InsuranceCompany.name == "Zurich Italia")
    assert (created.claims_email, created.claims_pec, created.claims_address) == (
        "sinistri@zurich.example.it", "sinistri@pec.zurich.example.it", "Via Benigno Crespi 23, 20159 Milano (MI)")
    with pytest.raises(InvalidData, match="300 caratteri"):
        insurers.create_from_name("Altra", "Altra Compagnia", f.user(Role.ADMIN), claims_address="x" * 301)


def test_the_claims_grid_filters_on_a_name_to_map(client, wincar, f):
    f.insurer(name="Assicurazioni Generali"), f.insurer(name="UnipolSai")
    known = send(client, wincar, "WC-1")
    unknown = send(client, wincar, "WC-2", b="Ignota")
    login(client, f.user(Role.ADMIN))
    link = re.search(r'href="([^"]*/admin/claim/\?flt0_\d+=1)"',
                     client.get("/admin/unknown-insurer/").get_data(as_text=True)).group(1)
    html = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert unknown.number in html and known.number not in html


@pytest.mark.parametrize("role", [Role.ASP_MANAGER, Role.LAWYER, Role.REPAIRER])
def test_every_other_role_gets_403_on_the_grid_its_actions_and_the_aliases(client, wincar, f, role):
    unipol = f.insurer(name="UnipolSai Assicurazioni")
    send(client, wincar, "WC-1", b="Gruppo Unipol")
    alias = insurers.map_name("Altro Nome", unipol, f.user(Role.ADMIN)) and InsurerAlias.get()
    lawyer = f.lawyer(wincar)
    link = {Role.ASP_MANAGER: dict(asp_centre=wincar), Role.LAWYER: dict(lawyer=lawyer),
            Role.REPAIRER: dict(repairer=Repairer.get())}[role]
    login(client, f.user(role, **link))
    token = csrf_token(client, "/admin/")
    assert client.get("/admin/unknown-insurer/").status_code == 403
    assert client.post("/admin/unknown-insurer/map", data={"csrf_token": token, "name": "Gruppo Unipol",
                                                           "insurer": unipol.id}).status_code == 403
    assert client.post("/admin/unknown-insurer/create", data={"csrf_token": token, "name": "Gruppo Unipol",
                                                              "insurer_name": "Nuova"}).status_code == 403
    assert client.get("/admin/insurer_alias/").status_code == 403
    assert client.get(f"/admin/insurer_alias/details/?id={alias.id}").status_code == 403
    assert client.post("/admin/insurer_alias/delete/", data={"csrf_token": token, "id": alias.id}).status_code == 403
    assert "Compagnie da abbinare" not in client.get("/admin/").get_data(as_text=True)
    assert Claim.get().vehicle_b_insurer_id is None and InsurerAlias.select().count() == 1
    assert not InsuranceCompany.select().where(InsuranceCompany.name == "Nuova").exists()


def test_without_a_login_the_grid_sends_to_the_login_page(client, wincar):
    response = client.get("/admin/unknown-insurer/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ---- the contract WinCar sees ------------------------------------------------------------

def test_the_openapi_schema_of_a_vehicle_is_unchanged_for_wincar(client, app):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    vehicle = schemas["Vehicle"]
    assert set(vehicle["properties"]) == {"plate", "country", "insurer", "policy_number", "driver", "circumstances"}
    insurer = vehicle["properties"]["insurer"]
    assert {"type": "string", "maxLength": 200} in insurer["anyOf"] and {"type": "null"} in insurer["anyOf"]
    assert "insurer_name" not in str(schemas)


# ---- the migration ------------------------------------------------------------------------

def test_migration_006_fills_the_names_of_existing_claims_from_their_insurers(f):
    from models import db
    from models.migrate import router
    generali = f.insurer(name="Assicurazioni Generali")
    claim = f.claim(f.repairer(), f.centre(), vehicle_a_insurer=generali)
    nameless = f.claim(claim.repairer, claim.asp_centre)
    migrations = router()
    assert "006_insurer_names" in migrations.done
    while "006_insurer_names" in migrations.done:  # the later ones first
        migrations.rollback()
    try:
        assert "vehicle_a_insurer_name" not in {c.name for c in db.get_columns("claim")}
    finally:
        migrations.run()
    assert Claim.get_by_id(claim.id).vehicle_a_insurer_name == "Assicurazioni Generali"
    assert Claim.get_by_id(claim.id).vehicle_b_insurer_name is None
    assert Claim.get_by_id(nameless.id).vehicle_a_insurer_name is None


# ---- in a browser --------------------------------------------------------------------------

@pytest.mark.browser
def test_the_call_centre_maps_a_name_from_the_grid_in_a_browser(live_server, page, f):  # noqa: F811
    from .conftest import OUTPUT_DIR
    repairer, centre = f.repairer(), f.centre()
    unipol = f.insurer(name="UnipolSai Assicurazioni")
    f.insurer(name="Assicurazioni Generali")
    claims = [f.claim(repairer, centre, vehicle_b_insurer_name=name) for name in ("Gruppo Unipol", "GRUPPO UNIPOL")]
    f.claim(repairer, centre, vehicle_b_insurer_name="Compagnia <script>x</script>")
    admin = f.user(Role.ADMIN, login="callcenter.test")
    page.goto(f"{live_server}/login")
    page.get_by_label("Nome utente").fill(admin.login)
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.goto(f"{live_server}/admin/claim/details/?id={claims[0].id}")
    assert page.locator(".insurer-unmapped").first.inner_text() == "da abbinare"
    page.screenshot(path=str(OUTPUT_DIR / "call-centre-claim-insurer-to-map.png"), full_page=True)
    page.goto(f"{live_server}/admin/unknown-insurer/")
    row = page.locator("tr.unknown-insurer", has_text="Gruppo Unipol")
    assert row.locator("td.text-right").inner_text() == "2"
    page.screenshot(path=str(OUTPUT_DIR / "call-centre-insurers-to-map.png"), full_page=True)
    row.locator("select[name=insurer]").select_option(str(unipol.id))
    row.get_by_role("button", name="Abbina", exact=True).click()
    assert "2 pratiche aggiornate" in page.locator(".alert-success").inner_text()
    assert page.locator("tr.unknown-insurer").count() == 1
    assert all(Claim.get_by_id(c.id).vehicle_b_insurer_id == unipol.id for c in claims)
