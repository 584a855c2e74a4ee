"""The pages the portal writes itself into a dossier: its cover, and for a raccomandata the
address page for a window envelope and the data of the return receipt (avviso di ricevimento).

Always in Italian: they are documents of the file, like the claim letter.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from models import Claim, ClaimStatus, QueueLimit

from . import claim_letter, clock, dates, next_due, who_pays
from .dossier_build import LeftOut, Part
from .pdf import FAMILY, Document

# The address block sits where the window of an Italian window envelope is (finestra a
# destra): from 110 mm from the left and 50 mm from the top, 90 x 40 mm. Folded in three
# (DL, 110 x 220 mm: folds at 99 and 198 mm) or in two (C5, 162 x 229 mm: fold at 148.5 mm),
# the top panel carries it to the window; the marks in the margin show where to fold.
WINDOW = (110, 50, 90, 40)  # x, y, width, height in mm
FOLDS_DL = (99, 198)
FOLD_C5 = 148.5


def _d(day) -> str:
    return f"{day:%d/%m/%Y}" if day else "-"


def cover(claim: Claim, parts: list[Part], left_out: list[LeftOut], total: int, target: Path,
          today: dt.date | None = None) -> Path:
    """The dossier's first page(s): the claim, its parties, dates, state and deadlines, and the
    index of what is bound (type, name, pages, first page, sha256) and of what was left out."""
    with force_locale("it"):
        pdf = Document(title=f"Fascicolo pratica {claim.number}")
        pdf.add_page()
        pdf.paragraph(f"Fascicolo della pratica {claim.number}", size=16, style="B", gap=1)
        pdf.paragraph(f"Situazione al {_d(today or clock.today())} - {total} pagine", size=9, gap=3)
        to = who_pays.debtor(claim)
        pdf.heading("Soggetti")
        pdf.lines([
            f"Danneggiato: {claim.customer_name or '-'} (codice fiscale {claim.customer_fiscal_code or '-'})",
            f"Carrozzeria: {claim.repairer.name}",
            f"Centro ASP: {claim.asp_centre.name}",
            f"Legale: {claim.lawyer.name if claim.lawyer else '-'}",
            f"Compagnia destinataria: {to.name or '-'} ("
            f"{'indicata a mano' if to.by_hand else f'veicolo {to.side.upper()}'}, "
            f"{'indennizzo diretto' if to.procedure == 'direct' else 'procedura ordinaria'})",
        ], size=9)
        pdf.heading("Date e stato")
        pdf.lines([
            f"Stato: {ClaimStatus.LABELS.get(claim.status, claim.status)}",
            f"Sinistro: {_d(claim.accident_date)}{' ore ' + claim.accident_time.strftime('%H:%M') if claim.accident_time else ''}"
            f" - {claim.accident_place or 'luogo non indicato'}",
            f"Ricevuta il: {dates.format_moment(claim.received_at)}",
            f"Richiesta danni ricevuta dalla compagnia il: {_d(claim.claim_filed_on)}",
        ], size=9)
        deadlines = next_due.all_deadlines(claim, QueueLimit.get_or_none(QueueLimit.status == claim.status))
        pdf.heading("Scadenze")
        pdf.lines([f"{d.label}: {_d(d.due)} - {d.basis}" for d in deadlines] or ["Nessuna scadenza in corso."],
                  size=8)
        _index(pdf, parts)
        if left_out:
            pdf.heading("Documenti esclusi dal fascicolo")
            pdf.lines([f"- {item.label}: {item.name} - {item.reason}" for item in left_out], size=9)
        pdf.output(str(target))
    return target


def _index(pdf: Document, parts: list[Part]) -> None:
    pdf.heading("Indice dei documenti")
    widths = (8, 52, 70, 14, 14)
    pdf.set_font(FAMILY, "B", 8)
    for width, title in zip(widths, ("N.", "Tipo", "Documento", "Pagine", "Da pag.")):
        pdf.cell(width, 5, title, border="B")
    pdf.ln(5)
    for number, part in enumerate(parts, 1):
        pdf.set_font(FAMILY, "", 8)
        cells = (str(number), part.source.label, part.source.name, str(part.pages), str(part.first_page))
        for width, text in zip(widths, cells):
            pdf.cell(width, 4.5, _fit(pdf, text, width - 1))
        pdf.ln(4.5)
        pdf.set_font(FAMILY, "", 6)
        pdf.set_x(pdf.l_margin + widths[0])
        pdf.cell(0, 3.5, f"sha256 {part.source.sha256}", new_x="LMARGIN", new_y="NEXT")


def _fit(pdf: Document, text: str, width: float) -> str:
    """`text` cut with "..." to fit `width` mm in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "...") > width:
        text = text[:-1]
    return text + "..."


REBUILD = _l("La stampa per raccomandata di questo fascicolo è stata preparata quando mancava l'indirizzo "
              "dell'ufficio sinistri: prepara di nuovo il fascicolo.")


def envelope_refusal(claim: Claim) -> str | None:
    """Why the print for a raccomandata cannot be made (None: it can): the addressee's claims
    office has no postal address, and where to add it. A window envelope with a company's
    name alone reaches nobody, and its return receipt proves nothing."""
    to = claim_letter.addressee(claim)
    if to.lines:
        return None
    if not to.name:
        return _l("Stampa per raccomandata non disponibile: manca la compagnia destinataria (veicolo %(side)s). "
                  "Indicala nella pratica, poi prepara di nuovo il fascicolo.", side=to.side.upper())
    if getattr(claim, f"vehicle_{to.side}_insurer") is None:
        return _l("Stampa per raccomandata non disponibile: «%(name)s» non è nel registro delle compagnie. Il call "
                  "center la abbina in Anagrafiche > Compagnie da abbinare, con l'indirizzo postale del suo ufficio "
                  "sinistri; poi prepara di nuovo il fascicolo.", name=to.name)
    return _l("Stampa per raccomandata non disponibile: manca l'indirizzo postale dell'ufficio sinistri di "
              "%(name)s. Il call center lo aggiunge in Anagrafiche > Compagnie (campo «Indirizzo ufficio "
              "sinistri»); poi prepara di nuovo il fascicolo.", name=to.name)


def envelope(claim: Claim, pages: int, target: Path, today: dt.date | None = None) -> Path:
    """Two pages before a printed dossier: the address page for a window envelope (C5 or DL)
    and the filled data of the return receipt (avviso di ricevimento) of a raccomandata A/R.
    Never without the claims office's postal address (`envelope_refusal`)."""
    refusal = envelope_refusal(claim)
    if refusal is not None:
        raise ValueError(str(refusal))
    to, by = claim_letter.addressee(claim), claim_letter.sender(claim)
    to_block = [to.name or "Compagnia non indicata", "Ufficio sinistri", *to.lines]
    by_block = [by.name, *by.lines]
    pdf = Document(title=f"Raccomandata A/R pratica {claim.number}")
    pdf.add_page()
    pdf.set_font(FAMILY, "", 7)
    pdf.set_xy(20, 15)
    pdf.multi_cell(80, 3.5, "Mittente: " + ", ".join(by_block), new_x="LMARGIN", new_y="NEXT")
    x, y, width, _height = WINDOW
    pdf.set_xy(x, y)
    pdf.set_font(FAMILY, "", 8)
    pdf.cell(width, 4, "RACCOMANDATA A/R", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FAMILY, "B", 10)
    pdf.cell(width, 5, "Spett.le", new_x="LEFT", new_y="NEXT")
    for line in to_block:
        pdf.cell(width, 5, line[:60], new_x="LEFT", new_y="NEXT")
    for fold in (*FOLDS_DL, FOLD_C5):
        pdf.line(3, fold, 8, fold)
    pdf.set_xy(20, 120)
    pdf.paragraph(f"Oggetto: richiesta di risarcimento danni - pratica {claim.number} - fascicolo di {pages} pagine.",
                  size=9)
    pdf.add_page()
    pdf.paragraph("Dati per l'avviso di ricevimento (A/R)", size=14, style="B", gap=4)
    for title, block in (("Destinatario", to_block), ("Mittente - restituire a", by_block)):
        pdf.heading(title)
        pdf.lines(block, size=11)
        pdf.ln(3)
    pdf.heading("Spedizione")
    pdf.lines([f"Contenuto: richiesta di risarcimento danni e documenti, pratica {claim.number}, {pages} pagine",
               f"Data di stampa: {_d(today or clock.today())}",
               "Raccomandata n.: ______________________   Spedita il: ____/____/________"], size=10)
    pdf.ln(4)
    pdf.paragraph("Registrare sul portale il giorno della spedizione con \"Interruzione della prescrizione\", "
                  "mezzo Raccomandata A/R: da quel giorno decorre un nuovo termine di prescrizione di due anni "
                  "(art. 2943 c.c.).", size=8)
    pdf.output(str(target))
    return target
