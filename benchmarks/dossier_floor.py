"""The floor of the dossier benchmark: the same documents bound into one PDF by the
libraries alone, in the benchmark's process, so benchmarks/dossier.py can print the
worker's build as a ratio to it.

Each image becomes an A4 page with img2pdf (its bytes embedded as they are, the page
fitted as the dossier does), each PDF is appended as it is, with pypdf's `PdfWriter`,
and the whole is written to one file. Left out, beside the worker, the queue and the
database: the cover and its index, the "pag. N di M" on every page, the print copy
with its envelope pages, the checks of each document and the sha256 of the file, and
the streaming that keeps one part in memory at a time (`PdfWriter` holds them all).
Nothing of the app is imported.
"""
from __future__ import annotations

import io
from pathlib import Path

import img2pdf
from pypdf import PdfWriter

IMAGE_TYPES = ("image/jpeg", "image/png", "image/tiff")
A4 = (img2pdf.mm_to_pt(210), img2pdf.mm_to_pt(297))
A4_LAYOUT = img2pdf.get_layout_fun(pagesize=A4, fit=img2pdf.FitMode.into, auto_orient=True)


def bind_floor(documents: list[tuple[str, Path]], target: Path) -> int:
    """(content type, path) of each document, in order, bound into `target`; its page count."""
    writer = PdfWriter()
    for content_type, path in documents:
        if content_type in IMAGE_TYPES:
            writer.append(io.BytesIO(img2pdf.convert(str(path), layout_fun=A4_LAYOUT)))
        else:
            writer.append(path)
    pages = len(writer.pages)
    with open(target, "wb") as out:
        writer.write(out)
    return pages
