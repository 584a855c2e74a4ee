"""The claim letter (richiesta di risarcimento danni) to the debtor insurer, as a PDF in Italian.

What it carries is what art. 148 c.1 D.Lgs. 209/2005 asks of such a letter: the claimant
and its fiscal code, the vehicles with plates, insurers and policies, the accident's date,
time, place and dynamics (the Modulo Blu's circumstances in words), the amount claimed with
the estimate, where and on which days and hours the vehicle can be inspected, the request
for a reasoned offer, how to pay (the body shop's IBAN when the credit was assigned to it),
the sender with its PEC, date and place. The letter is always in Italian, whatever the
clerk's language: it is a document of the file.

The addressee follows the procedure (`next_due.procedure_of`, the portal's verdict unless
one was chosen on filing): direct compensation (art. 149) goes to the claimant's own
insurer, vehicle A's; the ordinary procedure (art. 148) to the other driver's, vehicle B's.

`compose` builds the letter's content (tested as data), `render` prints it, `save` stores
it as the next version of the `richiesta_danni` attachment, the previous ones kept.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import lazy_gettext as _l

from models import Attachment, Claim, Role, User, db

from . import access, circumstances, clock, deadlines, who_pays
from .attachments import store_attachment
from .errors import NotAllowed
from .money import format_euro
from .pdf import Document, address_lines, town_of

log = logging.getLogger("gessin.workflows")

KIND = "richiesta_danni"
# Who prepares what goes to the insurer: the claim's centre, its lawyer, the call centre.
PREPARERS = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER)
EXTRA_MAX = 4000  # characters of the clerk's own paragraph
DOCUMENT_WORDS = {
    "denuncia": "constatazione amichevole di incidente (modulo blu)",
    "mandato": "mandato",
    "cessione_credito": "atto di cessione del credito",
    "documento_identita": "documento d'identità del danneggiato",
    "preventivo": "preventivo di riparazione",
    "fattura": "fattura di riparazione",
    "perizia": "perizia",
    "foto": "fotografie del veicolo danneggiato",
    "altro": "altra documentazione",
}


def may_prepare(user: User | None, claim: Claim) -> bool:
    """The claim letter and the dossier: the claim's ASP centre, its lawyer and the call centre
    prepare them; the body shop does not (it sees the claim, and what is stored of it)."""
    return access.sees(user, claim) and user.role in PREPARERS


@dataclass
class Party:
    name: str
    lines: list[str] = field(default_factory=list)  # postal address, one line each
    pec: str = ""
    email: str = ""
    tax_code: str = ""


@dataclass
class Addressee(Party):
    procedure: str = deadlines.ORDINARY
    side: str = "b"  # the vehicle whose insurer is written to


@dataclass
class Letter:
    number: str
    sender: Party
    addressee: Addressee
    place: str
    on: dt.date
    subject: str
    opening: str
    sections: list[tuple[str, list[str]]]
    closing: list[str]
    enclosed: list[str]
    missing: list[str]  # what the registry or the claim lacks: said to the clerk, never invented

    @property
    def place_and_date(self) -> str:
        return f"{self.place + ', ' if self.place else ''}{self.on:%d/%m/%Y}"


def insurer_name(claim: Claim, side: str) -> str:
    insurer = getattr(claim, f"vehicle_{side}_insurer")
    return insurer.name if insurer else (getattr(claim, f"vehicle_{side}_insurer_name") or "")


def addressee(claim: Claim) -> Addressee:
    """The debtor insurer (`who_pays.debtor`: the procedure's vehicle's insurer, or the one chosen by hand)."""
    to = who_pays.debtor(claim)
    if to.insurer is None:
        return Addressee(to.name, procedure=to.procedure, side=to.side)
    return Addressee(to.name, address_lines(to.insurer.claims_address), to.insurer.claims_pec or "",
                     to.insurer.claims_email or "", procedure=to.procedure, side=to.side)


def sender(claim: Claim) -> Party:
    """The lawyer once the file is entrusted to one, else the ASP centre."""
    lawyer = claim.lawyer
    if lawyer is not None and lawyer.kind != "centre_desk":
        return Party(lawyer.name, address_lines(lawyer.address), lawyer.pec or "", lawyer.email or "",
                     lawyer.tax_code or "")
    centre = claim.asp_centre
    return Party(centre.name, address_lines(centre.address), centre.pec or "", centre.email or "", centre.vat_number)


def latest_documents(claim: Claim) -> dict[str, Attachment]:
    """The latest version of each type of document on the file."""
    latest: dict[str, Attachment] = {}
    for doc in claim.attachments.order_by(Attachment.kind, Attachment.version):
        latest[doc.kind] = doc
    return latest


def _vehicle(claim: Claim, side: str, role: str) -> str:
    plate = getattr(claim, f"vehicle_{side}_plate") or "targa non indicata"
    country = getattr(claim, f"vehicle_{side}_country") or "I"
    text = f"Veicolo {side.upper()} ({role}): targa {plate}" + ("" if country in ("I", "IT") else f" ({country})")
    driver = getattr(claim, f"vehicle_{side}_driver")
    if driver:
        text += f", condotto da {driver}"
    text += f", assicurato con {insurer_name(claim, side) or 'compagnia non indicata'}"
    policy = getattr(claim, f"vehicle_{side}_policy")
    return text + (f", polizza n. {policy}" if policy else ", polizza non indicata") + "."


def _dynamics(claim: Claim) -> list[str]:
    rows = []
    for side in ("a", "b"):
        words = circumstances.in_words(getattr(claim, f"vehicle_{side}_circumstances"))
        rows.append(f"Circostanze indicate per il veicolo {side.upper()}: "
                    + ("; ".join(words) if words else "nessuna casella barrata") + ".")
    rows.append("Constatazione amichevole firmata da entrambi i conducenti: "
                + ("sì." if claim.signed_by_both else "no."))
    rows.append("Feriti: " + (f"sì ({claim.injured_persons})." if claim.injuries and claim.injured_persons
                              else "sì." if claim.injuries else "nessuno."))
    if claim.witnesses:
        rows.append(f"Testimoni: {claim.witnesses}.")
    return rows


def _inspection(claim: Claim, missing: list[str]) -> list[str]:
    repairer = claim.repairer
    where = ", ".join(address_lines(repairer.address)) or "indirizzo non indicato"
    if not repairer.address:
        missing.append("l'indirizzo della carrozzeria")
    if not repairer.inspection_hours:
        missing.append("gli orari per la visione del veicolo (anagrafica della carrozzeria)")
    hours = repairer.inspection_hours or "da concordare con la carrozzeria"
    contact = f", tel. {repairer.phone}" if repairer.phone else ""
    return [f"Ai sensi dell'art. 148, comma 1, D.Lgs. 209/2005, il veicolo danneggiato è a disposizione per "
            f"l'ispezione diretta ad accertare l'entità del danno presso {repairer.name}, "
            f"{where}{contact}, nei seguenti giorni e orari: {hours}."]


def _payment(claim: Claim, documents: dict[str, Attachment], missing: list[str]) -> list[str]:
    repairer = claim.repairer
    if "cessione_credito" in documents:
        if not repairer.iban:
            missing.append("l'IBAN della carrozzeria cessionaria del credito")
        iban = repairer.iban or "da comunicare"
        return [f"Il danneggiato ha ceduto il proprio credito risarcitorio a {repairer.name} "
                f"(P. IVA {repairer.vat_number}), come da atto di cessione del credito allegato, che con la "
                f"presente si notifica ai sensi dell'art. 1264 c.c. Il pagamento dovrà essere effettuato alla "
                f"cessionaria mediante bonifico sul conto IBAN {iban}."]
    return ["Il pagamento dovrà essere effettuato a favore del danneggiato, con le modalità che verranno "
            "indicate dallo scrivente."]


def _amounts(claim: Claim, documents: dict[str, Attachment], missing: list[str]) -> list[str]:
    claimed = claim.claimed_amount if claim.claimed_amount is not None else claim.estimate_amount
    if claimed is None:
        missing.append("l'importo richiesto")
        return ["L'importo del danno sarà quantificato con separata comunicazione."]
    text = f"Si chiede il risarcimento dei danni materiali subiti dal veicolo A, quantificati in {format_euro(claimed)}"
    if claim.estimate_amount is not None:
        text += (f", come da preventivo di riparazione di {claim.repairer.name} di "
                 f"{format_euro(claim.estimate_amount)}")
        text += " allegato" if "preventivo" in documents else ""
    return [text + ", oltre accessori di legge."]


def compose(claim: Claim, extra: str = "", today: dt.date | None = None) -> Letter:
    """The letter's content for `claim` as it is now, with the clerk's own paragraph (`extra`)."""
    today = today or clock.today()
    to, by, documents, missing = addressee(claim), sender(claim), latest_documents(claim), []
    if not to.name:
        missing.append(f"la compagnia del veicolo {to.side.upper()}, destinataria della richiesta")
    elif not to.lines:
        missing.append("l'indirizzo dell'ufficio sinistri della compagnia destinataria")
    if not claim.customer_fiscal_code:
        missing.append("il codice fiscale del danneggiato")
    if not by.pec:
        missing.append("la PEC del mittente")
    direct = to.procedure == deadlines.DIRECT
    law = ("artt. 149 e 148 D.Lgs. 209/2005 (procedura di risarcimento diretto)" if direct
           else "art. 148 D.Lgs. 209/2005 (procedura ordinaria)")
    accident = f"{claim.accident_date:%d/%m/%Y}" if claim.accident_date else "data non indicata"
    subject = (f"Richiesta di risarcimento danni ai sensi dell'{law}. Sinistro del {accident}, "
               f"veicolo targa {claim.vehicle_a_plate or 'non indicata'}. Ns. rif. pratica {claim.number}.")
    customer = claim.customer_name or "danneggiato non indicato"
    who = f"{customer}, codice fiscale {claim.customer_fiscal_code or 'non indicato'}"
    if claim.customer_address:
        who += f", residente in {claim.customer_address}"
    opening = (f"Lo scrivente {by.name}, in nome e per conto di {who}, proprietario del veicolo A e danneggiato, "
               f"formula con la presente richiesta di risarcimento dei danni subiti nel sinistro di seguito "
               f"descritto" + (", rivolta a codesta Compagnia quale assicuratrice del veicolo del danneggiato."
                               if direct else ", rivolta a codesta Compagnia quale assicuratrice del veicolo "
                                              "responsabile."))
    days, _why = deadlines.offer_days(signed_by_both=bool(claim.signed_by_both),
                                   personal_injury=bool(claim.personal_injury))
    sections = [
        ("Dati del sinistro", [
            f"Data: {accident}.",
            f"Ora: {claim.accident_time:%H:%M}." if claim.accident_time else "Ora: non indicata.",
            f"Luogo: {claim.accident_place or 'non indicato'}.",
        ]),
        ("Veicoli coinvolti", [_vehicle(claim, "a", "del danneggiato"), _vehicle(claim, "b", "di controparte")]),
        ("Dinamica del sinistro", _dynamics(claim)),
        ("Danni e importo richiesto", _amounts(claim, documents, missing)),
        ("Visione del veicolo", _inspection(claim, missing)),
        ("Modalità di pagamento", _payment(claim, documents, missing)),
        ("Richiesta di offerta", [
            f"Si invita pertanto codesta Compagnia, ai sensi dell'art. 148 D.Lgs. 209/2005, a formulare congrua e "
            f"motivata offerta di risarcimento, ovvero a comunicare i motivi per i quali non ritiene di formularla, "
            f"entro {days} giorni dal ricevimento della presente.",
        ]),
    ]
    extra = (extra or "").strip()[:EXTRA_MAX]
    if extra:
        sections.append(("Ulteriori precisazioni", [p.strip() for p in re.split(r"\n\s*\n", extra) if p.strip()]))
    enclosed = [DOCUMENT_WORDS[kind] for kind in DOCUMENT_WORDS if kind in documents]
    closing = ["Con espressa riserva di ulteriori richieste e di ogni azione a tutela del danneggiato, "
               "si porgono distinti saluti."]
    place = town_of(", ".join(by.lines)) or town_of(claim.asp_centre.address)
    return Letter(claim.number, by, to, place, today, subject, opening, sections, closing, enclosed, missing)


def render(letter: Letter) -> bytes:
    pdf = Document(title=f"Richiesta di risarcimento danni - pratica {letter.number}")
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 5, letter.sender.name, new_x="LMARGIN", new_y="NEXT")
    contacts = letter.sender.lines + [f"PEC: {letter.sender.pec}" if letter.sender.pec else "",
                                      f"E-mail: {letter.sender.email}" if letter.sender.email else ""]
    pdf.lines([c for c in contacts if c], size=9)
    pdf.ln(6)
    to = letter.addressee
    block = ["Spett.le", to.name or "Compagnia non indicata", "Ufficio sinistri", *to.lines]
    if to.pec:
        block.append(f"PEC: {to.pec}")
    pdf.lines(block, size=10, indent=95)
    pdf.ln(6)
    pdf.paragraph(letter.place_and_date, gap=4)
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(0, 5, f"Oggetto: {letter.subject}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.paragraph(letter.opening)
    for heading, paragraphs in letter.sections:
        pdf.heading(heading, size=10)
        for text in paragraphs:
            pdf.paragraph(text, gap=1)
    pdf.ln(2)
    for text in letter.closing:
        pdf.paragraph(text)
    if letter.enclosed:
        pdf.heading("Si allegano:", size=10)
        pdf.lines([f"- {item}" for item in letter.enclosed], size=9)
    pdf.ln(8)
    pdf.lines([letter.sender.name] + ([f"PEC: {letter.sender.pec}"] if letter.sender.pec else []), indent=95)
    return pdf.to_bytes()


def letter_pdf(claim: Claim, extra: str = "", today: dt.date | None = None) -> bytes:
    return render(compose(claim, extra, today))


def file_name(claim: Claim) -> str:
    return f"richiesta-danni-{claim.number.replace('/', '-')}.pdf"


def save(claim: Claim, user: User, extra: str, storage_dir: str | Path) -> Attachment:
    """Store the letter as the next `richiesta_danni` version (the earlier ones stay on the file)."""
    if not may_prepare(user, claim):
        raise NotAllowed(_l("Solo il Centro ASP della pratica, il suo legale o il call center preparano la lettera."))
    data = letter_pdf(claim, extra)
    with db.atomic():
        stored = store_attachment(claim, KIND, file_name(claim), data, storage_dir=storage_dir, actor=user)
    log.info("claim %s: claim letter stored as version %d by %s", claim.number, stored.version, user.login)
    return stored
