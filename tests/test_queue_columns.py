"""Each work queue shows what its job needs; every grid flags a possible duplicate."""
from __future__ import annotations

from decimal import Decimal

from models import Claim, ClaimStatus, Payment, Role

from .conftest import QueryCounter, login
from .test_workflows import TODAY, claim_in, desk, new_claim  # noqa: F401 - fixtures


def row_of(page: str, claim) -> str:
    at = page.index(claim.number)
    return page[page.rindex("<tr", 0, at):page.index("</tr>", at)]


def test_to_validate_says_whether_each_file_is_complete_and_what_is_missing(client, desk):
    complete = new_claim(desk)
    lacking = new_claim(desk, documents=("denuncia",))
    login(client, desk.users[Role.ASP_MANAGER])
    page = client.get("/admin/queue/to-validate/").get_data(as_text=True)
    assert "Documentazione" in page
    assert "completa" in row_of(page, complete)
    assert "Mancano:" in row_of(page, lacking) and "il mandato firmato dal cliente" in row_of(page, lacking)


def test_the_completeness_column_reads_the_documents_once_per_page(client, desk):
    for _ in range(3):
        new_claim(desk, documents=("denuncia",))
    login(client, desk.users[Role.ASP_MANAGER])
    with QueryCounter() as few:
        client.get("/admin/queue/to-validate/")
    for _ in range(5):
        new_claim(desk, documents=("denuncia",))
    with QueryCounter() as more:
        client.get("/admin/queue/to-validate/")
    assert more.count == few.count


LACKS = {  # a claim lacking one datum -> what the column must say of it
    "accident_date": ({"accident_date": None}, "la data del sinistro"),
    "plates": ({"vehicle_b_plate": ""}, "le targhe dei due veicoli"),
    "insurer": ({"insurer": None}, "la compagnia debitrice"),
    "customer": ({"customer_name": ""}, "i dati del cliente"),
}


def test_the_completeness_column_reads_only_what_the_checklist_looks_at(client, desk):
    from workflows import checklist

    lacking = {code: new_claim(desk, **values) for code, (values, _words) in LACKS.items()}
    for code, claim in lacking.items():  # what the page reads tells what a claim lacks as the whole claim does
        read = Claim.select(Claim.id, *checklist.DATA_FIELDS).where(Claim.id == claim.id).get()
        assert checklist.missing_items(read) == checklist.missing_items(Claim.get_by_id(claim.id)) == [f"data:{code}"]
    login(client, desk.users[Role.ASP_MANAGER])
    with QueryCounter() as queries:
        page = client.get("/admin/queue/to-validate/?page_size=100").get_data(as_text=True)
    for code, claim in lacking.items():
        assert LACKS[code][1] in row_of(page, claim)
        assert all(words not in row_of(page, claim) for other, (_v, words) in LACKS.items() if other != code)
    rows = next(q for q in queries.statements if 'FROM "claim" AS "t1"' in q and "LIMIT" in q and "COUNT" not in q)
    assert '"vehicle_a_circumstances"' not in rows and '"missing_items"' not in rows  # not the whole claim


def test_awaiting_offer_shows_the_filing_date(client, desk):
    claim = claim_in(desk, ClaimStatus.FILED)
    login(client, desk.users[Role.ASP_MANAGER])
    page = client.get("/admin/queue/awaiting-offer/").get_data(as_text=True)
    assert "Richiesta ricevuta dalla compagnia il" in page and f"{TODAY:%d/%m/%Y}" in row_of(page, claim)


def test_partial_reimbursement_shows_claimed_paid_and_outstanding(client, desk):
    claim = claim_in(desk, ClaimStatus.PARTIALLY_REIMBURSED)  # 1.000,00 claimed, 100,00 paid on the way
    paid = sum(p.amount for p in Payment.select().where(Payment.claim == claim, Payment.kind == "reimbursement"))
    login(client, desk.users[Role.ASP_MANAGER])
    row = row_of(client.get("/admin/queue/partially-reimbursed/").get_data(as_text=True), claim)
    assert "€ 1.000,00" in row and f"€ {paid:.2f}".replace(".", ",") in row
    outstanding = Decimal("1000.00") - paid
    assert f"€ {outstanding:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") in row


def test_every_grid_flags_a_possible_duplicate(client, desk):
    claim = new_claim(desk)
    Claim.update(possible_duplicates="2026/000777").where(Claim.id == claim.id).execute()
    other = new_claim(desk)
    login(client, desk.users[Role.ASP_MANAGER])
    for url in ("/admin/claim/", "/admin/queue/to-validate/"):
        page = client.get(url).get_data(as_text=True)
        assert "duplicato?</span>" in row_of(page, claim) and "2026/000777" not in page, url  # never another's number
        assert "duplicate-flag" not in row_of(page, other)


def test_the_claim_page_shows_offer_and_payments_against_the_claim_and_the_outcome(client, desk):
    from workflows import engine
    claim = claim_in(desk, ClaimStatus.PARTIALLY_REIMBURSED)
    engine.apply("record_offer", Claim.get_by_id(claim.id), desk.users[Role.ASP_MANAGER], amount="800,00",
                 on_date=TODAY)
    login(client, desk.users[Role.ASP_MANAGER])
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "Ultima offerta</th><td>€ 800,00" in page and "Rimborsato</th><td>€ 100,00" in page
    assert "Da recuperare</th><td>€ 900,00" in page and "Esito" not in page
    engine.apply("close", Claim.get_by_id(claim.id), desk.users[Role.ASP_MANAGER], reason="settled",
                 note="accordo a 900")
    page = client.get(f"/admin/claim/details/?id={claim.id}").get_data(as_text=True)
    assert "Esito</th><td>Transatta — accordo a 900" in page
