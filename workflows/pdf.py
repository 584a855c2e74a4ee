"""What every PDF the portal writes shares: an A4 fpdf2 document in DejaVu Sans.

fpdf2's core fonts are Latin-1 only: "€", "’" or a Polish name would not print. DejaVu
Sans (Bitstream Vera licence, `fonts/LICENSE`) is vendored in `workflows/fonts/` and read
from there, never from the system, so every machine prints the same.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

from fpdf import FPDF

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVu"
# fontTools says at INFO every glyph it keeps of a subset: a page of log per PDF written.
logging.getLogger("fontTools").setLevel(logging.WARNING)
A4 = (210, 297)  # mm
A4_POINTS = (595.28, 841.89)


class Document(FPDF):
    """A4, millimetres, DejaVu Sans registered in its regular and bold faces (each face parsed
    costs about 0.1 s: the oblique one is left out, notes are set smaller instead)."""

    def __init__(self, title: str = ""):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_font(FAMILY, size=10)
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(True, margin=20)
        self.set_creator("Gessin")
        if title:
            self.set_title(title)

    def paragraph(self, text: str, size: float = 10, style: str = "", gap: float = 2) -> None:
        self.set_font(FAMILY, style, size)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)

    def heading(self, text: str, size: float = 11) -> None:
        self.ln(1)
        self.paragraph(text, size=size, style="B", gap=1)

    def lines(self, rows: list[str], size: float = 10, indent: float = 0) -> None:
        self.set_font(FAMILY, "", size)
        for row in rows:
            self.set_x(self.l_margin + indent)
            self.multi_cell(0, size * 0.5, row, new_x="LMARGIN", new_y="NEXT")

    def to_bytes(self) -> bytes:
        return bytes(self.output())


def address_lines(address: str | None) -> list[str]:
    """"Via Roma 1, 20121 Milano (MI)" -> ["Via Roma 1", "20121 Milano (MI)"]; lines typed apart stay apart."""
    parts = []
    for line in (address or "").replace(";", "\n").splitlines():
        parts += [p.strip() for p in line.split(",") if p.strip()]
    return parts


def town_of(address: str | None) -> str:
    """The town of an Italian address ("…, 20121 Milano (MI)" -> "Milano"), or "" when it cannot tell."""
    lines = address_lines(address)
    if not lines:
        return ""
    last = re.sub(r"^\d{5}\s*", "", lines[-1])
    last = re.sub(r"\s*\(?\b[A-Z]{2}\b\)?$", "", last).strip()
    return "" if any(ch.isdigit() for ch in last) else last
