"""What the claim letter must carry (art. 148 c.1-2 D.Lgs. 209/2005), and what the claim lacks of it.

Each function returns the letter's paragraphs for one concern and adds to `missing` (what
the registry or the claim lacks: the clerk adds it, the letter never invents it) and to
`warnings` (what is there but falls short of the law). A missing item is never written as
if it were there: the letter says it will follow, and a term that runs from a complete
request is not claimed as running while the request is incomplete.
"""
from __future__ import annotations

import datetime as dt
import re

from models import Attachment, Claim

from . import circumstances, deadlines
from .money import format_euro
from .pdf import address_lines

PEC, RACCOMANDATA = "pec", "raccomandata"
MEANS = ((PEC, "PEC"), (RACCOMANDATA, "Raccomandata A/R"))
DOCUMENT_WORDS = {
    "denuncia": "constatazione amichevole di incidente (modulo blu)",
    "mandato": "mandato",
    "cessione_credito": "atto di cessione del credito",
    "documento_identita": "documento d'identità del danneggiato",
    "preventivo": "preventivo di riparazione",
    "fattura": "fattura di riparazione",
    "perizia": "perizia",
    "certificato_medico": "attestazione medica comprovante l'avvenuta guarigione",
    "foto": "fotografie del veicolo danneggiato",
    "altro": "altra documentazione",
}
ART_142 = "dichiarazione ai sensi dell'art. 142, comma 2, D.Lgs. 209/2005"
INSPECTION_DAYS = 5  # art. 148 c.1: available "per un periodo non inferiore a cinque giorni non festivi"


def claims_personal_injury(claim: Claim) -> bool:
    """Whether this request claims personal injury (the 90-day term, the data of art. 148 c.2):
    the request's own fact, not whether someone was hurt in the accident (`injuries`)."""
    return bool(claim.personal_injury)


def latest_documents(claim: Claim) -> dict[str, Attachment]:
    """The latest version of each type of document on the file."""
    latest: dict[str, Attachment] = {}
    for doc in claim.attachments.order_by(Attachment.kind, Attachment.version):
        latest[doc.kind] = doc
    return latest


def assigned(documents: dict[str, Attachment]) -> bool:
    """The credit was assigned to the body shop: the assignee is the creditor and the payee."""
    return "cessione_credito" in documents


def insurer_name(claim: Claim, side: str) -> str:
    insurer = getattr(claim, f"vehicle_{side}_insurer")
    return insurer.name if insurer else (getattr(claim, f"vehicle_{side}_insurer_name") or "")


def vehicle(claim: Claim, side: str, role: str) -> str:
    plate = getattr(claim, f"vehicle_{side}_plate") or "targa non indicata"
    country = getattr(claim, f"vehicle_{side}_country") or "I"
    text = f"Veicolo {side.upper()} ({role}): targa {plate}" + ("" if country in ("I", "IT") else f" ({country})")
    driver = getattr(claim, f"vehicle_{side}_driver")
    if driver:
        text += f", condotto da {driver}"
    text += f", assicurato con {insurer_name(claim, side) or 'compagnia non indicata'}"
    policy = getattr(claim, f"vehicle_{side}_policy")
    return text + (f", polizza n. {policy}" if policy else ", polizza non indicata") + "."


def dynamics(claim: Claim) -> list[str]:
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


def amounts(claim: Claim, documents: dict[str, Attachment], missing: list[str]) -> list[str]:
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


# ---- inspection (art. 148 c.1) ----------------------------------------------------------

_DAY = re.compile(r"\b(lun(?:edì|edi)?|mar(?:tedì|tedi)?|mer(?:coledì|coledi)?|gio(?:vedì|vedi)?|"
                  r"ven(?:erdì|erdi)?|sab(?:ato)?|dom(?:enica)?)\b\.?", re.IGNORECASE)
_RANGE = re.compile(r"^\s*(?:-|–|—|a|al|fino a|fino al)\s*$", re.IGNORECASE)
_WEEKDAY = {"lun": 0, "mar": 1, "mer": 2, "gio": 3, "ven": 4, "sab": 5, "dom": 6}
_EVERY_DAY = re.compile(r"tutti i giorni|ogni giorno|giorni feriali|\bferiali\b", re.IGNORECASE)


def inspection_days(hours: str | None) -> int | None:
    """How many days of the week, Sundays left out, the body shop's "orari per la visione del
    veicolo" name ("lunedì-venerdì 8-12" -> 5, "lun, mer e ven" -> 3, "tutti i giorni feriali"
    -> 6); None when the text names no day (the count cannot be told)."""
    text = hours or ""
    if _EVERY_DAY.search(text):
        return 6
    found = [(m, _WEEKDAY[m.group(1)[:3].lower()]) for m in _DAY.finditer(text)]
    days: set[int] = set()
    for i, (match, day) in enumerate(found):
        days.add(day)
        if i and _RANGE.match(text[found[i - 1][0].end():match.start()]):
            days.update(range(found[i - 1][1], day + 1))
    return len(days - {6}) if days else None


def inspection(claim: Claim, missing: list[str], warnings: list[str]) -> list[str]:
    repairer = claim.repairer
    where = ", ".join(address_lines(repairer.address)) or "indirizzo non indicato"
    if not repairer.address:
        missing.append("l'indirizzo della carrozzeria")
    contact = f", tel. {repairer.phone}" if repairer.phone else ""
    head = (f"Ai sensi dell'art. 148, comma 1, D.Lgs. 209/2005, il veicolo danneggiato è a disposizione per "
            f"l'ispezione diretta ad accertare l'entità del danno presso {repairer.name}, {where}{contact}")
    if not repairer.inspection_hours:
        missing.append("gli orari per la visione del veicolo (anagrafica della carrozzeria)")
        warnings.append("Senza gli orari per la visione del veicolo la lettera dice solo «giorni e orari da "
                        "concordare con la carrozzeria»: l'art. 148, comma 1, chiede i giorni e le ore "
                        "(almeno cinque giorni non festivi).")
        return [head + ", nei giorni e negli orari da concordare con la carrozzeria."]
    days = inspection_days(repairer.inspection_hours)
    if days is None:
        warnings.append(f"Gli orari per la visione del veicolo («{repairer.inspection_hours}») non indicano i "
                        f"giorni: l'art. 148, comma 1, chiede almeno cinque giorni non festivi.")
    elif days < INSPECTION_DAYS:
        warnings.append(f"Gli orari per la visione del veicolo indicano {days} giorni: l'art. 148, comma 1, "
                        f"chiede almeno cinque giorni non festivi (anagrafica della carrozzeria).")
    return [head + f", nei seguenti giorni e orari: {repairer.inspection_hours}, per un periodo non inferiore "
                   f"a cinque giorni non festivi dal ricevimento della presente."]


# ---- payee and IBAN -----------------------------------------------------------------------

def payment(claim: Claim, documents: dict[str, Attachment], missing: list[str]) -> list[str]:
    """The payee and its IBAN: the assignee (the body shop) when the credit was assigned,
    else the claimant; the damages to the person are the claimant's whatever was assigned."""
    repairer, customer = claim.repairer, claim.customer_name or "il danneggiato"
    rows = []
    if assigned(documents):
        if not repairer.iban:
            missing.append("l'IBAN della carrozzeria cessionaria del credito")
        account = (f"sul conto IBAN {repairer.iban} intestato alla medesima" if repairer.iban
                   else "sul conto che la cessionaria comunicherà con separata comunicazione")
        rows.append(f"Creditrice del risarcimento dei danni al veicolo è {repairer.name} (P. IVA "
                    f"{repairer.vat_number}), cessionaria del credito in forza dell'atto di cessione del credito "
                    f"allegato, che con la presente si notifica ai sensi dell'art. 1264 c.c. Beneficiaria del "
                    f"pagamento è pertanto la cessionaria {repairer.name}: il pagamento dovrà essere effettuato "
                    f"esclusivamente a suo favore, mediante bonifico {account}.")
        if not claims_personal_injury(claim):
            return rows
        rows.append(f"Il risarcimento dei danni alla persona, non compreso nella cessione, dovrà essere "
                    f"corrisposto al danneggiato {customer}, " + _customer_account(claim, missing))
        return rows
    return [f"Beneficiario del pagamento è il danneggiato {customer}: il pagamento dovrà essere effettuato a suo "
            f"favore, " + _customer_account(claim, missing)]


def _customer_account(claim: Claim, missing: list[str]) -> str:
    if claim.customer_iban:
        return f"mediante bonifico sul conto IBAN {claim.customer_iban} intestato al medesimo."
    missing.append("l'IBAN del danneggiato, beneficiario del pagamento")
    return "mediante bonifico sul conto che sarà comunicato dallo scrivente con separata comunicazione."


# ---- personal injury (art. 148 c.2) -------------------------------------------------------

def age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def injury_gaps(claim: Claim, documents: dict[str, Attachment]) -> list[tuple[str, str]]:
    """What art. 148 c.2 asks of a request for personal injury that the claim does not have:
    (the letter's words, where the clerk adds it)."""
    data = "sezione «Danni alla persona» della pratica"
    checks = (
        (claim.injured_birth_date is not None, "l'età del danneggiato", f"la data di nascita ({data})"),
        (bool(claim.injured_occupation), "l'attività del danneggiato", f"l'attività ({data})"),
        (claim.injured_income is not None, "il reddito del danneggiato", f"il reddito annuo ({data})"),
        (bool(claim.injury_extent), "l'entità delle lesioni subite", f"l'entità delle lesioni ({data})"),
        ("certificato_medico" in documents, "l'attestazione medica comprovante l'avvenuta guarigione",
         "il certificato medico di guarigione (allegato «Certificato medico di guarigione»)"),
        (bool(claim.art142_declaration), "la dichiarazione ai sensi dell'art. 142, comma 2",
         f"la dichiarazione dell'art. 142, comma 2 ({data})"),
    )
    return [(words, where) for present, words, where in checks if not present]


def injuries(claim: Claim, documents: dict[str, Attachment], missing: list[str], warnings: list[str]) -> list[str]:
    """The data of art. 148 c.2, each as it is on the claim; what lacks is said to follow."""
    gaps = injury_gaps(claim, documents)
    missing.extend(f"per i danni alla persona, {where}" for _words, where in gaps)
    if gaps:
        warnings.append("La richiesta comprende danni alla persona ma mancano dati o documenti dell'art. 148, "
                        "comma 2: la lettera non fa decorrere il termine di 90 giorni dal suo ricevimento.")
    customer = claim.customer_name or "il danneggiato"
    rows = [f"Si chiede altresì il risarcimento dei danni alla persona subiti da {customer} nel sinistro. "
            f"Ai sensi dell'art. 148, comma 2, D.Lgs. 209/2005 si indicano:"]
    if claim.injured_birth_date is not None:
        on = claim.accident_date or claim.injured_birth_date
        rows.append(f"Età: {age(claim.injured_birth_date, on)} anni alla data del sinistro "
                    f"(nato il {claim.injured_birth_date:%d/%m/%Y}).")
    if claim.injured_occupation:
        rows.append(f"Attività: {claim.injured_occupation}.")
    if claim.injured_income is not None:
        rows.append(f"Reddito annuo: {format_euro(claim.injured_income)}.")
    if claim.injury_extent:
        rows.append(f"Entità delle lesioni subite: {claim.injury_extent}.")
    if "certificato_medico" in documents:
        rows.append("Si allega attestazione medica comprovante l'avvenuta guarigione.")
    if claim.art142_declaration:
        rows.append(f"Si allega la {ART_142}.")
    if gaps:
        rows.append("Saranno trasmessi con separata comunicazione: " + "; ".join(w for w, _where in gaps) + ".")
    return rows


# ---- the offer term, the demand, how the letter travels -----------------------------------

def offer_request(claim: Claim, documents: dict[str, Attachment]) -> list[str]:
    """30 days only with the CAI signed by both, 60 otherwise, 90 with personal injury; the 90
    days run from this letter only when it carries every item of art. 148 c.2."""
    injury = claims_personal_injury(claim)
    days, _why = deadlines.offer_days(signed_by_both=bool(claim.signed_by_both), personal_injury=injury)
    ask = ("Si invita pertanto codesta Compagnia, ai sensi dell'art. 148 D.Lgs. 209/2005, a formulare congrua e "
           "motivata offerta di risarcimento, ovvero a comunicare i motivi per i quali non ritiene di formularla, ")
    if injury and injury_gaps(claim, documents):
        return [ask + f"entro {days} giorni dal ricevimento della documentazione completa prevista dall'art. 148, "
                      f"comma 2, con la quale la presente sarà integrata."]
    why = ("trattandosi di richiesta che comprende danni alla persona (art. 148, comma 2)" if injury
           else "essendo la constatazione amichevole di incidente sottoscritta da entrambi i conducenti "
                "(art. 148, comma 1)" if days == 30 else "(art. 148, comma 1)")
    return [ask + f"entro {days} giorni dal ricevimento della presente, {why}."]


DEMAND = ("La presente vale anche quale atto di costituzione in mora (art. 1219 c.c.) e interruzione della "
          "prescrizione ai sensi dell'art. 2943 c.c.")


def default_means(pec: str) -> str:
    """By PEC when the claims office has one, else by raccomandata A/R."""
    return PEC if pec else RACCOMANDATA


def means_words(means: str, pec: str) -> str:
    """How the letter travels, as its head says it."""
    if means == PEC:
        return f"A mezzo PEC: {pec}" if pec else "A mezzo PEC"
    return "A mezzo raccomandata A/R"
