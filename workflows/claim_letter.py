"""The claim letter (richiesta di risarcimento danni) to the debtor insurer, as a PDF in Italian.

What it carries is what art. 148 c.1-2 D.Lgs. 209/2005 asks of such a letter: the claimant
(or, with the credit assigned, the body shop as creditor) and its fiscal code, the vehicles
with plates, insurers and policies, the accident's date, time, place and dynamics (the Modulo
Blu's circumstances in words), the amount claimed with the estimate, where and on which
days and hours the vehicle can be inspected, with personal injury the claimant's age,
occupation, income, the extent of the injuries, the medical certificate of recovery and the
declaration of art. 142 c.2, the request for a reasoned offer within its term, the payee and
its IBAN, how the letter travels (PEC or raccomandata A/R), the formal demand that
interrupts prescription, the sender with its PEC, date and place. The letter is always in
Italian, whatever the clerk's language: it is a document of the file.

The addressee follows the procedure (`next_due.procedure_of`, the portal's verdict unless
one was chosen on filing): direct compensation (art. 149) goes to the claimant's own
insurer, vehicle A's, with a copy ("e p.c.") to the liable party's, vehicle B's; the
ordinary procedure (art. 148) to the other driver's, vehicle B's.

`compose` builds the letter's content (tested as data; each concern in
`claim_letter_items`, which also says what the claim lacks), `claim_letter_pdf.render`
prints it, `save` stores it as the next version of the `richiesta_danni` attachment, the
previous ones kept.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import lazy_gettext as _l

from models import Attachment, Claim, Role, User, db

from . import access, clock, deadlines, who_pays
from . import claim_letter_items as items
from .attachments import store_attachment
from .claim_letter_items import insurer_name, latest_documents  # noqa: F401 - part of this module's API
from .claim_letter_pdf import render
from .errors import NotAllowed
from .pdf import address_lines, town_of

log = logging.getLogger("gessin.workflows")

KIND = "richiesta_danni"
# Who prepares what goes to the insurer: the claim's centre, its lawyer, the call centre.
PREPARERS = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER)
EXTRA_MAX = 4000  # characters of the clerk's own paragraph
MEANS = items.MEANS


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
    warnings: list[str] = field(default_factory=list)  # what is there but falls short of the law
    copy: Party | None = None  # under direct compensation, the liable party's insurer ("e p.c.")
    means: str = items.RACCOMANDATA

    @property
    def place_and_date(self) -> str:
        return f"{self.place + ', ' if self.place else ''}{self.on:%d/%m/%Y}"

    @property
    def means_line(self) -> str:
        return items.means_words(self.means, self.addressee.pec)

    @property
    def recipients(self) -> list[str]:
        """Who the letter goes to, the copy included, as the preview lists them."""
        return [self.addressee.name] + ([f"{self.copy.name} (e p.c.)"] if self.copy is not None else [])


def addressee(claim: Claim) -> Addressee:
    """The debtor insurer (`who_pays.debtor`: the procedure's vehicle's insurer, or the one chosen by hand)."""
    to = who_pays.debtor(claim)
    if to.insurer is None:
        return Addressee(to.name, procedure=to.procedure, side=to.side)
    return Addressee(to.name, address_lines(to.insurer.claims_address), to.insurer.claims_pec or "",
                     to.insurer.claims_email or "", procedure=to.procedure, side=to.side)


def copy_to(claim: Claim, to: Addressee, missing: list[str]) -> Party | None:
    """Under direct compensation, the liable party's insurer (vehicle B's) receives a copy."""
    if to.procedure != deadlines.DIRECT:
        return None
    side = "b" if to.side == "a" else "a"
    insurer = getattr(claim, f"vehicle_{side}_insurer")
    if insurer is None:
        name = insurer_name(claim, side)
        missing.append(f"l'indirizzo dell'ufficio sinistri di {name}, in copia (compagnia del responsabile)"
                       if name else f"la compagnia del veicolo {side.upper()}, in copia (compagnia del responsabile)")
        return Party(name)
    if not insurer.claims_address:
        missing.append(f"l'indirizzo dell'ufficio sinistri di {insurer.name}, in copia (compagnia del responsabile)")
    return Party(insurer.name, address_lines(insurer.claims_address), insurer.claims_pec or "",
                 insurer.claims_email or "")


def sender(claim: Claim) -> Party:
    """The lawyer once the file is entrusted to one, else the ASP centre."""
    lawyer = claim.lawyer
    if lawyer is not None and lawyer.kind != "centre_desk":
        return Party(lawyer.name, address_lines(lawyer.address), lawyer.pec or "", lawyer.email or "",
                     lawyer.tax_code or "")
    centre = claim.asp_centre
    return Party(centre.name, address_lines(centre.address), centre.pec or "", centre.email or "", centre.vat_number)


def _addressee_checks(to: Addressee, by: Party, means: str, missing: list[str]) -> None:
    if not to.name:
        missing.append(f"la compagnia del veicolo {to.side.upper()}, destinataria della richiesta")
    elif not to.lines:
        missing.append("l'indirizzo dell'ufficio sinistri della compagnia destinataria")
    if means == items.PEC and to.name and not to.pec:
        missing.append("la PEC dell'ufficio sinistri della compagnia destinataria (scelto l'invio a mezzo PEC)")
    if not by.pec:
        missing.append("la PEC del mittente")


def _opening(claim: Claim, by: Party, direct: bool, documents: dict[str, Attachment]) -> str:
    customer = claim.customer_name or "danneggiato non indicato"
    who = f"{customer}, codice fiscale {claim.customer_fiscal_code or 'non indicato'}"
    if claim.customer_address:
        who += f", residente in {claim.customer_address}"
    if items.assigned(documents):
        repairer = claim.repairer
        principal = (f"{repairer.name}, P. IVA {repairer.vat_number}"
                     + (f", codice fiscale {repairer.fiscal_code}" if repairer.fiscal_code else "")
                     + f", cessionaria e creditrice del risarcimento dei danni al veicolo, ceduto da {who}, "
                       f"proprietario del veicolo A e danneggiato"
                     + (", nonché di quest'ultimo per i danni alla persona" if items.claims_personal_injury(claim)
                        else ""))
    else:
        principal = f"{who}, proprietario del veicolo A e danneggiato"
    return (f"Lo scrivente {by.name}, in nome e per conto di {principal}, formula con la presente richiesta di "
            f"risarcimento dei danni subiti nel sinistro di seguito descritto"
            + (", rivolta a codesta Compagnia quale assicuratrice del veicolo del danneggiato."
               if direct else ", rivolta a codesta Compagnia quale assicuratrice del veicolo responsabile."))


def compose(claim: Claim, extra: str = "", today: dt.date | None = None, means: str | None = None) -> Letter:
    """The letter's content for `claim` as it is now, with the clerk's own paragraph (`extra`),
    sent by `means` (PEC or raccomandata A/R; by default PEC when the addressee has one)."""
    today = today or clock.today()
    to, by, documents, missing, warnings = addressee(claim), sender(claim), latest_documents(claim), [], []
    means = means if means in dict(MEANS) else items.default_means(to.pec)
    _addressee_checks(to, by, means, missing)
    if not claim.customer_fiscal_code:
        missing.append("il codice fiscale del danneggiato")
    direct = to.procedure == deadlines.DIRECT
    copy = copy_to(claim, to, missing)
    law = ("artt. 145, 148 e 149 del D.Lgs. 209/2005 (procedura di risarcimento diretto)" if direct
           else "artt. 145 e 148 del D.Lgs. 209/2005 (procedura ordinaria)")
    accident = f"{claim.accident_date:%d/%m/%Y}" if claim.accident_date else "data non indicata"
    subject = (f"Richiesta di risarcimento danni ai sensi degli {law}. Sinistro del {accident}, "
               f"veicolo targa {claim.vehicle_a_plate or 'non indicata'}. Ns. rif. pratica {claim.number}.")
    sections = [
        ("Dati del sinistro", [
            f"Data: {accident}.",
            f"Ora: {claim.accident_time:%H:%M}." if claim.accident_time else "Ora: non indicata.",
            f"Luogo: {claim.accident_place or 'non indicato'}.",
        ]),
        ("Veicoli coinvolti", [items.vehicle(claim, "a", "del danneggiato"),
                               items.vehicle(claim, "b", "di controparte")]),
        ("Dinamica del sinistro", items.dynamics(claim)),
        ("Danni e importo richiesto", items.amounts(claim, documents, missing)),
    ]
    if items.claims_personal_injury(claim):
        sections.append(("Danni alla persona", items.injuries(claim, documents, missing, warnings)))
    sections += [
        ("Visione del veicolo", items.inspection(claim, missing, warnings)),
        ("Beneficiario e modalità di pagamento", items.payment(claim, documents, missing)),
        ("Richiesta di offerta", items.offer_request(claim, documents)),
    ]
    extra = (extra or "").strip()[:EXTRA_MAX]
    if extra:
        sections.append(("Ulteriori precisazioni", [p.strip() for p in re.split(r"\n\s*\n", extra) if p.strip()]))
    enclosed = [items.DOCUMENT_WORDS[kind] for kind in items.DOCUMENT_WORDS if kind in documents]
    if items.claims_personal_injury(claim) and claim.art142_declaration:
        enclosed.append(items.ART_142)
    closing = [items.DEMAND,
               "Con espressa riserva di ulteriori richieste e di ogni azione a tutela del danneggiato, "
               "si porgono distinti saluti."]
    place = town_of(", ".join(by.lines)) or town_of(claim.asp_centre.address)
    return Letter(claim.number, by, to, place, today, subject, _opening(claim, by, direct, documents), sections,
                  closing, enclosed, missing, warnings, copy, means)


def letter_pdf(claim: Claim, extra: str = "", today: dt.date | None = None, means: str | None = None) -> bytes:
    return render(compose(claim, extra, today, means))


def file_name(claim: Claim) -> str:
    return f"richiesta-danni-{claim.number.replace('/', '-')}.pdf"


def save(claim: Claim, user: User, extra: str, storage_dir: str | Path, means: str | None = None) -> Attachment:
    """Store the letter as the next `richiesta_danni` version (the earlier ones stay on the file)."""
    if not may_prepare(user, claim):
        raise NotAllowed(_l("Solo il Centro ASP della pratica, il suo legale o il call center preparano la lettera."))
    data = letter_pdf(claim, extra, means=means)
    with db.atomic():
        stored = store_attachment(claim, KIND, file_name(claim), data, storage_dir=storage_dir, actor=user)
    log.info("claim %s: claim letter stored as version %d by %s", claim.number, stored.version, user.login)
    return stored
