"""The claim letter (art. 148 CdA): what it carries, read back from the PDF with pypdf, and to whom."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from models import Attachment, Claim, InsuranceCompany, Repairer, Role
from models.validators import InvalidValue
from workflows import circumstances, claim_letter, claim_letter_items
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
    assert "ai sensi degli artt. 145, 148 e 149 del D.Lgs. 209/2005" in text


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



# ---- section 7 of issue 26: a letter the law accepts (art. 148 c.1-2 CdA) ------------------

INJURY = dict(personal_injury=True, injured_birth_date=dt.date(1980, 3, 20), injured_occupation="impiegato tecnico",
              injured_income=Decimal("32000.00"), injury_extent="trauma distorsivo del rachide cervicale",
              art142_declaration=True)
CUSTOMER_IBAN = "IT42L1234512345123456789012"


def with_injury(claim, app, **overrides):
    for name, value in {**INJURY, **overrides}.items():
        setattr(claim, name, value)
    claim.save()
    store_attachment(claim, "certificato_medico", "guarigione.pdf", PDF, storage_dir=app.config["STORAGE_DIR"])


@pytest.mark.parametrize("injury", [False, True], ids=["vehicle-only", "personal-injury"])
@pytest.mark.parametrize("assigned", [False, True], ids=["not-assigned", "assigned"])
@pytest.mark.parametrize("direct", [False, True], ids=["ordinary", "direct"])
def test_every_element_of_section_7_is_in_the_rendered_letter(claim, app, injury, assigned, direct):
    claim.direct_compensation, claim.procedure, claim.customer_iban = direct, None, CUSTOMER_IBAN
    if injury:
        with_injury(claim, app)
    if assigned:
        store_attachment(claim, "cessione_credito", "cessione.pdf", PDF, storage_dir=app.config["STORAGE_DIR"])
    letter = claim_letter.compose(claim, today=dt.date(2026, 10, 2))
    text = pdf_text(claim_letter.render(letter))
    # how it travels, the law it invokes, the formal demand that interrupts prescription
    own_pec = "sinistri@pec.alfa.example.it" if direct else "sinistri@pec.beta.example.it"
    assert f"A mezzo PEC: {own_pec}" in text
    assert ("ai sensi degli artt. 145, 148 e 149 del D.Lgs. 209/2005" if direct
            else "ai sensi degli artt. 145 e 148 del D.Lgs. 209/2005") in text
    assert "costituzione in mora" in text and "interruzione della prescrizione ai sensi dell'art. 2943 c.c." in text
    # the inspection: the place, the days and hours, at least five days not holidays
    assert "lunedì-venerdì 8:30-12:30 e 14:30-18:30" in text and "cinque giorni non festivi" in text
    assert "da concordare" not in text
    # the copy to the liable party's insurer, under direct compensation only
    copy = "e p.c. Spett.le Beta Assicurazioni Ufficio sinistri Corso Beta 2 10100 Torino (TO)"
    assert (copy in text) is direct
    assert letter.recipients == (["Assicurazioni Alfa", "Beta Assicurazioni (e p.c.)"] if direct
                                 else ["Beta Assicurazioni"])
    # the payee and its IBAN: the assignee, creditor in the text, or the claimant
    if assigned:
        assert "in nome e per conto di Carrozzeria Bianchi" in text
        assert "Creditrice del risarcimento dei danni al veicolo è Carrozzeria Bianchi" in text
        assert "Beneficiaria del pagamento è pertanto la cessionaria Carrozzeria Bianchi" in text
        assert "IT60X0542811101000000123456" in text and "art. 1264 c.c." in text
        assert (CUSTOMER_IBAN in text) is injury  # the damages to the person stay the claimant's
    else:
        assert "Beneficiario del pagamento è il danneggiato Mario Rossi" in text and CUSTOMER_IBAN in text
        assert "IT60X0542811101000000123456" not in text and "cessionaria" not in text
    # personal injury: every item of art. 148 c.2, and then the 90 days; else 30 (CAI signed by both)
    injury_items = ["Danni alla persona", "Età: 46 anni alla data del sinistro (nato il 20/03/1980)",
                    "Attività: impiegato tecnico", "Reddito annuo: 32.000,00 €",
                    "Entità delle lesioni subite: trauma distorsivo del rachide cervicale",
                    "attestazione medica comprovante l'avvenuta guarigione",
                    "dichiarazione ai sensi dell'art. 142, comma 2, D.Lgs. 209/2005"]
    assert [item for item in injury_items if (item in text) is not injury] == []
    assert ("entro 90 giorni dal ricevimento della presente" if injury
            else "entro 30 giorni dal ricevimento della presente") in text
    assert letter.missing == [] and letter.warnings == []


ITEMS = [("injured_birth_date", None, "l'età del danneggiato"),
         ("injured_occupation", None, "l'attività del danneggiato"),
         ("injured_income", None, "il reddito del danneggiato"),
         ("injury_extent", "", "l'entità delle lesioni subite"),
         ("art142_declaration", False, "la dichiarazione ai sensi dell'art. 142, comma 2"),
         ("certificato_medico", None, "l'attestazione medica comprovante l'avvenuta guarigione")]


@pytest.mark.parametrize("name, blank, words", ITEMS, ids=[item[0] for item in ITEMS])
def test_each_missing_item_of_art_148_c2_is_flagged_and_the_90_days_are_not_claimed(claim, app, name, blank, words):
    claim.customer_iban = CUSTOMER_IBAN
    if name == "certificato_medico":  # an attachment, not a column
        for field_name, value in INJURY.items():
            setattr(claim, field_name, value)
    else:
        with_injury(claim, app, **{name: blank})
    letter = claim_letter.compose(claim)
    text = pdf_text(claim_letter.render(letter))
    assert len(letter.missing) == 1 and letter.missing[0].startswith("per i danni alla persona")
    assert any("non fa decorrere il termine di 90 giorni" in w for w in letter.warnings)
    assert "entro 90 giorni dal ricevimento della presente" not in text
    assert "entro 90 giorni dal ricevimento della documentazione completa prevista dall'art. 148, comma 2" in text
    assert f"Saranno trasmessi con separata comunicazione: {words}." in text


def test_an_injury_in_the_accident_alone_is_not_a_request_for_personal_injury(claim):
    claim.injuries, claim.injured_persons, claim.personal_injury = True, "un passeggero del veicolo B", False
    letter = claim_letter.compose(claim)
    text = pdf_text(claim_letter.render(letter))
    assert "Feriti: sì (un passeggero del veicolo B)." in text and "Danni alla persona" not in text
    assert "entro 30 giorni dal ricevimento della presente" in text
    assert not any("danni alla persona" in m for m in letter.missing)
    assert claim_letter_items.claims_personal_injury(claim) is False


@pytest.mark.parametrize("signed, days", [(True, 30), (False, 60)])
def test_the_30_days_are_claimed_only_with_the_cai_signed_by_both(claim, signed, days):
    claim.signed_by_both = signed
    text = pdf_text(claim_letter.letter_pdf(claim))
    assert f"entro {days} giorni dal ricevimento della presente" in text
    assert ("sottoscritta da entrambi i conducenti" in text) is signed
    assert "entro 30 giorni" not in text or signed


def test_without_assignment_a_claimant_without_iban_is_said_missing(claim):
    claim.customer_iban = None
    letter = claim_letter.compose(claim)
    text = pdf_text(claim_letter.render(letter))
    assert "l'IBAN del danneggiato, beneficiario del pagamento" in letter.missing
    assert "Beneficiario del pagamento è il danneggiato Mario Rossi" in text and "IBAN" not in text
    assert "sul conto che sarà comunicato dallo scrivente" in text


def test_an_assignee_without_iban_is_said_missing(claim, app):
    claim.repairer.iban = None
    store_attachment(claim, "cessione_credito", "cessione.pdf", PDF, storage_dir=app.config["STORAGE_DIR"])
    letter = claim_letter.compose(claim)
    assert "l'IBAN della carrozzeria cessionaria del credito" in letter.missing
    assert "da comunicare" not in pdf_text(claim_letter.render(letter))


def test_the_claimants_iban_is_checked(claim):
    claim.customer_iban = "IT42L1234512345123456789013"
    with pytest.raises(InvalidValue):
        claim.save()
    claim.customer_iban = "it42 l123 4512 3451 2345 6789 012"
    claim.save()
    assert Claim.get_by_id(claim.id).customer_iban == CUSTOMER_IBAN


@pytest.mark.parametrize("hours, days, warned", [
    ("lunedì-venerdì 8:30-12:30", 5, False),
    ("dal lunedì al sabato 8-12", 6, False),
    ("lun.-ven. 9-13, sab 9-12", 6, False),
    ("tutti i giorni feriali 8-18", 6, False),
    ("lunedì, mercoledì e venerdì 9-12", 3, True),
    ("martedì e giovedì", 2, True),
    ("sabato e domenica 9-12", 1, True),
    ("dalle 8 alle 18", None, True),
])
def test_fewer_than_five_working_days_for_the_inspection_are_warned(claim, hours, days, warned):
    assert claim_letter_items.inspection_days(hours) == days
    claim.repairer.inspection_hours = hours
    letter = claim_letter.compose(claim)
    assert bool(letter.warnings) is warned
    assert not any("orari per la visione" in m for m in letter.missing)


def test_missing_inspection_hours_are_never_a_silent_da_concordare(claim):
    claim.repairer.inspection_hours = None
    letter = claim_letter.compose(claim)
    text = pdf_text(claim_letter.render(letter))
    assert "da concordare con la carrozzeria" in text
    assert any("orari per la visione del veicolo" in m for m in letter.missing)
    assert any("da concordare" in w for w in letter.warnings)


def test_the_letter_says_how_it_travels_by_default_from_the_addressees_pec(claim):
    assert claim_letter.compose(claim).means == "pec"
    text = pdf_text(claim_letter.letter_pdf(claim, means="raccomandata"))
    assert "A mezzo raccomandata A/R" in text and "A mezzo PEC" not in text
    # the addressee (the debtor of workflows/who_pays.py, read from the registry) has no PEC
    InsuranceCompany.update(claims_pec=None).execute()
    claim = Claim.get_by_id(claim.id)
    letter = claim_letter.compose(claim)
    assert letter.means == "raccomandata" and "A mezzo raccomandata A/R" in pdf_text(claim_letter.render(letter))
    chosen = claim_letter.compose(claim, means="pec")
    assert any("PEC dell'ufficio sinistri della compagnia destinataria" in m for m in chosen.missing)


def test_the_copy_under_direct_compensation_says_what_the_registry_lacks(claim):
    claim.direct_compensation, claim.procedure = True, None
    claim.vehicle_b_insurer.claims_address = None
    letter = claim_letter.compose(claim)
    assert letter.copy.name == "Beta Assicurazioni"
    assert any("Beta Assicurazioni, in copia" in m for m in letter.missing)
    claim.vehicle_b_insurer, claim.vehicle_b_insurer_name = None, "Gamma Ass.ni"
    letter = claim_letter.compose(claim)
    assert letter.copy.name == "Gamma Ass.ni" and any("Gamma Ass.ni, in copia" in m for m in letter.missing)
