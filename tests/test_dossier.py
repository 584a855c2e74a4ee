"""The dossier: order and page count of what is bound, images as A4 pages, "pag. N di M" on every
page, damaged and encrypted PDFs left out by name, and a rebuild only when the documents change."""
from __future__ import annotations

import io
import json
import re

import pikepdf
import pytest
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader, PdfWriter

from models import ClaimDossier, DossierState, Role
from workflows import dossier, dossier_pages
from workflows.attachments import storage_path, store_attachment
from workflows.errors import NotAllowed

A4 = (595.28, 841.89)


def make_pdf(pages: int, label: str, landscape: bool = False) -> bytes:
    pdf = FPDF(orientation="L" if landscape else "P")
    pdf.set_font("helvetica", size=14)
    for n in range(1, pages + 1):
        pdf.add_page()
        pdf.cell(0, 10, f"{label} pagina {n}")
    return bytes(pdf.output())


def make_jpeg(size=(1600, 1200), colour=(180, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=80)
    return out.getvalue()


def rotated_pdf() -> bytes:
    """A page that a viewer shows turned by 90 degrees (/Rotate), as scanners write them."""
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(make_pdf(1, "Ruotata"))))
    writer.pages[0].rotate(90)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf(user_password: str = "segreta") -> bytes:
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(make_pdf(1, "Segreto"))))
    writer.encrypt(user_password=user_password, owner_password="proprietario")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def case(f, app):
    centre = f.centre(address="Via Dante 3, 20121 Milano (MI)", pec="centro@pec.example.it")
    insurer = f.insurer(name="Beta Assicurazioni", claims_address="Corso Beta 2, 10100 Torino (TO)")
    claim = f.claim(f.repairer(address="Via Emilia 10, 40100 Bologna (BO)"), centre, vehicle_b_insurer=insurer,
                    customer_name="Mario Rossi")
    manager = f.user(Role.ASP_MANAGER, asp_centre=centre)
    storage = app.config["STORAGE_DIR"]

    def add(kind, name, data):
        return store_attachment(claim, kind, name, data, storage_dir=storage)

    return claim, manager, storage, add


def build(claim, manager, storage, ids=None):
    row, queued = dossier.request(claim, manager, ids)
    if queued:
        dossier.build(row.id, storage)
    return ClaimDossier.get_by_id(row.id), queued


def pages_text(row, storage, which="stored_name"):
    reader = PdfReader(storage_path(storage, getattr(row, which)))
    return reader, [" ".join(page.extract_text().split()) for page in reader.pages]


def test_the_documents_are_bound_in_the_stated_order_after_the_cover(case):
    claim, manager, storage, add = case
    # stored out of order on purpose
    add("foto", "foto-1.jpg", make_jpeg())
    add("preventivo", "preventivo.pdf", make_pdf(2, "Preventivo"))
    add("denuncia", "denuncia.pdf", make_pdf(1, "Denuncia"))
    add("richiesta_danni", "richiesta.pdf", make_pdf(1, "Richiesta"))
    add("mandato", "mandato.pdf", make_pdf(1, "Mandato"))
    add("altro", "altro.pdf", make_pdf(3, "Altro"))
    row, queued = build(claim, manager, storage)
    assert queued and row.state == DossierState.READY and json.loads(row.left_out) == []
    reader, texts = pages_text(row, storage)
    cover_pages = 1
    assert row.pages == len(reader.pages) == cover_pages + 1 + 1 + 1 + 2 + 1 + 3
    labels = [re.search(r"(Denuncia|Richiesta|Mandato|Preventivo|Altro) pagina \d", t) for t in texts[1:]]
    found = [m.group(0) if m else "immagine" for m in labels]
    assert found == ["Denuncia pagina 1", "Richiesta pagina 1", "Mandato pagina 1", "Preventivo pagina 1",
                     "Preventivo pagina 2", "immagine", "Altro pagina 1", "Altro pagina 2", "Altro pagina 3"]
    # the cover's index: each document with its pages and sha256
    assert "Indice dei documenti" in texts[0] and claim.number in texts[0]
    assert pikepdf.open(storage_path(storage, row.stored_name)).check_pdf_syntax() == []
    for doc in claim.attachments:
        assert doc.sha256 in texts[0].replace(" ", "")


def test_every_page_is_numbered_and_images_become_a4_pages(case):
    claim, manager, storage, add = case
    add("denuncia", "denuncia.pdf", make_pdf(2, "Denuncia", landscape=True))
    add("foto", "verticale.jpg", make_jpeg((900, 1600)))
    add("foto", "orizzontale.jpg", make_jpeg((1600, 900)))
    add("perizia", "ruotata.pdf", rotated_pdf())
    row, _ = build(claim, manager, storage)
    reader, texts = pages_text(row, storage)
    total = len(reader.pages)
    assert [f"pag. {n} di {total}" in text for n, text in enumerate(texts, 1)] == [True] * total
    assert pikepdf.open(storage_path(storage, row.stored_name)).check_pdf_syntax() == []  # qpdf finds no fault
    photos = [page for page in reader.pages if "/XObject" in page["/Resources"]
              and any(page["/Resources"]["/XObject"][k]["/Subtype"] == "/Image" for k in page["/Resources"]["/XObject"])]
    assert len(photos) == 2
    for page in photos:
        size = sorted((round(float(page.mediabox.width), 1), round(float(page.mediabox.height), 1)))
        assert size == [595.3, 841.9]


def test_a_damaged_and_an_encrypted_pdf_are_left_out_by_name(case):
    claim, manager, storage, add = case
    add("denuncia", "denuncia.pdf", make_pdf(1, "Denuncia"))
    add("preventivo", "preventivo-rotto.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage, no xref")
    add("perizia", "perizia-protetta.pdf", encrypted_pdf())
    add("foto", "foto-rotta.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    row, _ = build(claim, manager, storage)
    assert row.state == DossierState.READY
    left = {item["name"]: item["reason"] for item in dossier.left_out(row)}
    assert set(left) == {"preventivo-rotto.pdf", "perizia-protetta.pdf", "foto-rotta.jpg"}
    assert "password" in left["perizia-protetta.pdf"]
    reader, texts = pages_text(row, storage)
    letter_pages = sum("Richiesta di risarcimento" in t or "Distinti saluti" in t or "distinti saluti" in t
                       for t in texts[2:])
    assert row.pages == len(reader.pages) == 1 + 1 + letter_pages  # cover, denuncia, the letter written for it
    assert not any("Segreto" in t for t in texts)
    cover = texts[0]
    assert "Documenti esclusi dal fascicolo" in cover
    assert all(name in cover for name in left)


def test_without_a_saved_letter_one_is_written_into_the_dossier(case):
    claim, manager, storage, add = case
    add("denuncia", "denuncia.pdf", make_pdf(1, "Denuncia"))
    row, _ = build(claim, manager, storage)
    _reader, texts = pages_text(row, storage)
    assert "Denuncia pagina 1" in texts[1] and "Richiesta di risarcimento danni" in texts[2]
    assert "Beta Assicurazioni" in texts[2]


def test_not_rebuilt_when_nothing_changed_rebuilt_when_a_document_is_added(case):
    claim, manager, storage, add = case
    add("denuncia", "denuncia.pdf", make_pdf(1, "Denuncia"))
    add("richiesta_danni", "richiesta.pdf", make_pdf(1, "Richiesta"))
    first, queued = build(claim, manager, storage)
    assert queued and first.pages == 3
    again, queued_again = build(claim, manager, storage)
    assert not queued_again and again.stored_name == first.stored_name and again.finished_at == first.finished_at
    add("fattura", "fattura.pdf", make_pdf(2, "Fattura"))
    rebuilt, queued_rebuilt = build(claim, manager, storage)
    assert queued_rebuilt and rebuilt.pages == 5 and rebuilt.stored_name != first.stored_name
    assert not storage_path(storage, first.stored_name).exists()  # the old file went with its build
    assert ClaimDossier.select().where(ClaimDossier.claim == claim).count() == 1


def test_a_chosen_selection_binds_only_those(case):
    claim, manager, storage, add = case
    keep = add("denuncia", "denuncia.pdf", make_pdf(1, "Denuncia"))
    letter = add("richiesta_danni", "richiesta.pdf", make_pdf(1, "Richiesta"))
    add("altro", "altro.pdf", make_pdf(4, "Altro"))
    row, _ = build(claim, manager, storage, ids=[str(keep.id), str(letter.id)])
    assert row.pages == 3


def test_the_print_for_a_raccomandata_starts_with_the_envelope_and_receipt_pages(case):
    claim, manager, storage, add = case
    add("denuncia", "denuncia.pdf", make_pdf(1, "Denuncia"))
    row, _ = build(claim, manager, storage)
    reader, texts = pages_text(row, storage, "print_stored_name")
    assert len(reader.pages) == row.pages + 2
    assert "RACCOMANDATA A/R" in texts[0] and "Beta Assicurazioni" in texts[0] and "Corso Beta 2" in texts[0]
    assert "avviso di ricevimento" in texts[1] and "Mittente" in texts[1]
    assert f"pag. 1 di {row.pages}" in texts[2]


def test_only_who_prepares_the_file_asks_for_its_dossier(case, f):
    claim, _manager, _storage, _add = case
    shop = f.user(Role.REPAIRER, repairer=claim.repairer)
    with pytest.raises(NotAllowed):
        dossier.request(claim, shop)
    stranger = f.user(Role.ASP_MANAGER, asp_centre=f.centre())
    with pytest.raises(NotAllowed):
        dossier.request(claim, stranger)
    assert ClaimDossier.select().count() == 0


def test_a_multi_page_tiff_becomes_as_many_a4_pages(case):
    claim, manager, storage, add = case
    out = io.BytesIO()
    first, second = Image.new("RGB", (800, 1100), "white"), Image.new("RGB", (800, 1100), "grey")
    first.save(out, "TIFF", save_all=True, append_images=[second])
    add("documento_identita", "carta-identita.tif", out.getvalue())
    add("denuncia", "denuncia.pdf", make_pdf(1, "Denuncia"))
    add("richiesta_danni", "richiesta.pdf", make_pdf(1, "Richiesta"))
    row, _ = build(claim, manager, storage)
    reader, texts = pages_text(row, storage)
    assert row.pages == len(reader.pages) == 1 + 1 + 1 + 2
    assert "pag. 5 di 5" in texts[4]


def test_a_build_left_by_a_stopped_worker_is_taken_over_once_stale(case):
    import datetime as dt

    from models import utcnow
    claim, manager, storage, add = case
    add("denuncia", "denuncia.pdf", make_pdf(1, "Denuncia"))
    row, _ = dossier.request(claim, manager)
    recent = utcnow() - dt.timedelta(minutes=1)
    ClaimDossier.update(state=DossierState.BUILDING, started_at=recent).where(ClaimDossier.id == row.id).execute()
    assert dossier.build(row.id, storage) is None  # another worker may still be at it
    [(found, delay)] = dossier.under_way()
    assert found == row.id and 0 < delay <= dossier.STALE_AFTER.total_seconds() + 1
    stale = utcnow() - dossier.STALE_AFTER - dt.timedelta(seconds=5)
    ClaimDossier.update(started_at=stale).where(ClaimDossier.id == row.id).execute()
    assert dossier.build(row.id, storage).state == DossierState.READY
    assert dossier.under_way() == []


def test_a_pdf_locked_only_against_changes_is_bound(case):
    """Encrypted with an empty user password (only printing or editing restricted): it opens,
    so it is bound, not left out."""
    claim, manager, storage, add = case
    add("denuncia", "denuncia.pdf", make_pdf(1, "Denuncia"))
    add("richiesta_danni", "richiesta.pdf", make_pdf(1, "Richiesta"))
    add("perizia", "perizia.pdf", encrypted_pdf(user_password=""))
    row, _ = build(claim, manager, storage)
    _reader, texts = pages_text(row, storage)
    assert dossier.left_out(row) == [] and row.pages == 4 and "Segreto pagina 1" in texts[3]


def test_the_envelope_carries_the_claims_office_postal_address(case):
    claim, manager, storage, add = case
    add("denuncia", "denuncia.pdf", make_pdf(1, "Denuncia"))
    row, _ = build(claim, manager, storage)
    _reader, texts = pages_text(row, storage, "print_stored_name")
    assert "Spett.le Beta Assicurazioni Ufficio sinistri Corso Beta 2 10100 Torino (TO)" in texts[0]
    assert dossier.print_refusal(row) is None


def test_no_print_for_a_raccomandata_without_the_claims_office_postal_address(case, tmp_path):
    claim, manager, storage, add = case
    claim.vehicle_b_insurer.claims_address = None
    claim.vehicle_b_insurer.save()
    add("denuncia", "denuncia.pdf", make_pdf(1, "Denuncia"))
    row, _ = build(claim, manager, storage)
    assert row.state == DossierState.READY and row.stored_name and row.print_stored_name is None
    refusal = dossier.print_refusal(row)
    assert "manca l'indirizzo postale dell'ufficio sinistri di Beta Assicurazioni" in refusal
    assert "Anagrafiche > Compagnie" in refusal
    with pytest.raises(ValueError):
        dossier_pages.envelope(claim, 1, tmp_path / "busta.pdf")
    # the call centre adds the address: the same documents make a new print, with it
    claim.vehicle_b_insurer.claims_address = "Corso Beta 2, 10100 Torino (TO)"
    claim.vehicle_b_insurer.save()
    row, queued = build(claim, manager, storage)
    assert queued and row.print_stored_name and dossier.print_refusal(row) is None
    assert "Corso Beta 2" in pages_text(row, storage, "print_stored_name")[1][0]


def test_an_insurer_outside_the_registry_is_sent_to_be_matched_before_the_print(case):
    claim, manager, storage, add = case
    claim.vehicle_b_insurer, claim.vehicle_b_insurer_name = None, "Zurik"
    claim.save()
    row, _ = build(claim, manager, storage)
    assert row.print_stored_name is None and "Compagnie da abbinare" in dossier.print_refusal(row)
