"""The claim letter printed: A4, DejaVu Sans, always in Italian (a document of the file).

Its head says how it travels (PEC or raccomandata A/R), to whom, and under direct
compensation to whom a copy goes ("e p.c."); then the subject, the sections that
`claim_letter.compose` wrote, the closing with the formal demand, the documents enclosed
and the signature.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .pdf import Document

if TYPE_CHECKING:  # pragma: no cover
    from .claim_letter import Letter, Party


def _office(party: Party) -> list[str]:
    block = [party.name or "Compagnia non indicata", "Ufficio sinistri", *party.lines]
    return block + ([f"PEC: {party.pec}"] if party.pec else [])


def render(letter: Letter) -> bytes:
    pdf = Document(title=f"Richiesta di risarcimento danni - pratica {letter.number}")
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 5, letter.sender.name, new_x="LMARGIN", new_y="NEXT")
    contacts = letter.sender.lines + [f"PEC: {letter.sender.pec}" if letter.sender.pec else "",
                                      f"E-mail: {letter.sender.email}" if letter.sender.email else ""]
    pdf.lines([c for c in contacts if c], size=9)
    pdf.ln(6)
    pdf.paragraph(letter.means_line, size=9, style="B", gap=1)
    pdf.lines(["Spett.le", *_office(letter.addressee)], size=10, indent=95)
    if letter.copy is not None:
        pdf.ln(2)
        pdf.lines(["e p.c.", "Spett.le", *_office(letter.copy)], size=9, indent=95)
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
