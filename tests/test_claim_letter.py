"""The claim letter (art. 148 CdA): what it carries, read back from the PDF with pypdf, and to whom."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from models import Attachment, Repairer, Role
from models.validators import InvalidValue
from workflows import circumstances, claim_letter
from workflows.attachments import store_attachment
from workflows.errors import NotAllowed

PDF = b"%PDF-1.4 documento di prova"


def pdf_text(data: bytes) -> str:
    """The PDF's text, one space for any run of blanks (fpdf2 wraps lines; Babel's euro uses a no-break space)."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.replace("\xa0", " ").split())


@pytest.fixture
def claim(f, app):
    centre = f.centre(name="Centro ASP Milano", address="Via Dante 3, 20121 Milano (MI)", pec="centro@pec.example.it")
    repairer = f.repairer(name="Carrozzeria Bianchi", address="Via Emilia 10, 40100 Bologna (BO)", phone="051 123456",
                          inspection_hours="lunedì-venerdì 8:30-12:30 e 14:30-18:30", iban="IT60X0542811101000000123456")
    own = f.insurer(name="Assicurazioni Alfa", claims_address="Piazza Alfa 1, 00100 Roma (RM)",
                    claims_pec="sinistri@pec.alfa.example.it")
    other = f.insurer(name="Beta Assicurazioni", claims_address="Corso Beta 2, 10100 Torino (TO)",
                      claims_pec="sinistri@pec.beta.example.it")
    return f.claim(repairer, centre, customer_name="Mario Rossi", customer_fiscal_code="RSSMRA80A01H501U",
                   customer_address="Via Verdi 5, 20100 Milano", accident_date=dt.date(2026, 9, 14),
                   accident_time=dt.time(17, 45), accident_place="Milano, incrocio via Torino / via Larga",
                   vehicle_a_plate="AB123CD", vehicle_a_insurer=own, vehicle_a_policy="POL-A-778",
                   vehicle_a_driver="Mario Rossi", vehicle_a_circumstances="1",
                   vehicle_b_plate="EF456GH", vehicle_b_insurer=other, vehicle_b_policy="POL-B-991",
                   vehicle_b_driver="Luca Verdi", vehicle_b_circumstances="8,17", signed_by_both=True,
                   estimate_amount=Decimal("1520.40"), claimed_amount=Decimal("1620.40"))


def test_the_letter_carries_every_item_art_148_asks_for(claim):
    text = pdf_text(claim_letter.letter_pdf(claim, "Si segnala che il veicolo è fermo dal giorno del sinistro.",
                                            today=dt.date(2026, 10, 2)))
    required = [
        "Mario Rossi", "RSSMRA80A01H501U",  # the claimant and its fiscal code
        "AB123CD", "EF456GH", "Assicurazioni Alfa", "Beta Assicurazioni", "POL-A-778", "POL-B-991",
        "14/09/2026", "17:45", "Milano, incrocio via Torino / via Larga",  # date, time and place
        "1. in fermata / in sosta", "8. tamponava procedendo nello stesso senso e nella stessa fila",
        "17. non aveva osservato il segnale di precedenza o di semaforo rosso",  # the dynamics in words
        "1.620,40 €", "1.520,40 €", "preventivo",  # amount claimed, with the estimate
        "Carrozzeria Bianchi", "Via Emilia 10", "lunedì-venerdì 8:30-12:30 e 14:30-18:30",  # inspection
        "formulare congrua e motivata offerta", "entro 30 giorni",  # the request for an offer (signed by both)
        "Centro ASP Milano", "centro@pec.example.it",  # the sender with its PEC
        "Milano, 02/10/2026",  # place and date
        "Si segnala che il veicolo è fermo dal giorno del sinistro.",  # the clerk's paragraph
    ]
    assert [item for item in required if item not in text] == []


def test_direct_compensation_writes_to_the_claimants_own_insurer(claim):
    claim.direct_compensation, claim.procedure = True, None
    letter = claim_letter.compose(claim)
    assert (letter.addressee.name, letter.addressee.side) == ("Assicurazioni Alfa", "a")
    text = pdf_text(claim_letter.render(letter))
    assert "Spett.le Assicurazioni Alfa Ufficio sinistri Piazza Alfa 1 00100 Roma (RM)" in text
    assert "artt. 149 e 148 D.Lgs. 209/2005" in text


def test_the_ordinary_procedure_writes_to_the_other_drivers_insurer(claim):
    claim.direct_compensation, claim.procedure = False, None
    text = pdf_text(claim_letter.letter_pdf(claim))
    assert "Spett.le Beta Assicurazioni Ufficio sinistri Corso Beta 2 10100 Torino (TO)" in text
    assert "Assicurazioni Alfa Ufficio sinistri" not in text
    claim.procedure = "direct"  # chosen on filing: it wins over the portal's verdict
    assert claim_letter.addressee(claim).name == "Assicurazioni Alfa"


def test_an_assigned_credit_names_the_assignment_and_the_body_shops_iban(claim, app):
    without = pdf_text(claim_letter.letter_pdf(claim))
    assert "IT60X0542811101000000123456" not in without and "cessione" not in without
    store_attachment(claim, "cessione_credito", "cessione.pdf", PDF, storage_dir=app.config["STORAGE_DIR"])
    text = pdf_text(claim_letter.letter_pdf(claim))
    assert "atto di cessione del credito allegato" in text and "IT60X0542811101000000123456" in text


def test_the_lawyer_signs_once_the_file_is_entrusted_to_one(claim, f):
    claim.lawyer = f.lawyer(claim.asp_centre, name="Avv. Giulia Neri", pec="neri@pec.example.it",
                            address="Corso Vittorio 8, 10121 Torino (TO)")
    text = pdf_text(claim_letter.letter_pdf(claim, today=dt.date(2026, 10, 2)))
    assert "Lo scrivente Avv. Giulia Neri" in text and "neri@pec.example.it" in text and "Torino, 02/10/2026" in text


def test_what_the_registry_lacks_is_said_not_invented(claim):
    claim.repairer.inspection_hours = None
    claim.customer_fiscal_code = None
    missing = claim_letter.compose(claim).missing
    assert any("orari per la visione" in m for m in missing)
    assert any("codice fiscale del danneggiato" in m for m in missing)


def test_saving_keeps_every_earlier_version(claim, f, app):
    manager = f.user(Role.ASP_MANAGER, asp_centre=claim.asp_centre)
    first = claim_letter.save(claim, manager, "", app.config["STORAGE_DIR"])
    second = claim_letter.save(claim, manager, "Seconda versione.", app.config["STORAGE_DIR"])
    versions = [a.version for a in Attachment.select().where(Attachment.claim == claim,
                                                               Attachment.kind == "richiesta_danni")]
    assert sorted(versions) == [1, 2] and (first.version, second.version) == (1, 2)
    assert second.content_type == "application/pdf" and second.original_name.startswith("richiesta-danni-")


def test_the_body_shop_does_not_prepare_the_letter(claim, f, app):
    shop = f.user(Role.REPAIRER, repairer=claim.repairer)
    other_manager = f.user(Role.ASP_MANAGER, asp_centre=f.centre())
    assert not claim_letter.may_prepare(shop, claim) and not claim_letter.may_prepare(other_manager, claim)
    with pytest.raises(NotAllowed):
        claim_letter.save(claim, shop, "", app.config["STORAGE_DIR"])


def test_the_seventeen_circumstances_in_words():
    assert len(circumstances.WORDINGS) == 17
    assert circumstances.in_words("13, 1,99") == ["1. in fermata / in sosta", "13. girava a sinistra"]
    assert circumstances.describe(None) == ""


def test_a_repairers_iban_is_checked(f):
    with pytest.raises(InvalidValue):
        f.repairer(iban="IT60X0542811101000000123457")
    shop = f.repairer(iban="it60 x054 2811 1010 0000 0123 456")
    assert Repairer.get_by_id(shop.id).iban == "IT60X0542811101000000123456"
