"""The floor of the dossier benchmark (benchmarks/dossier_floor.py): it must bind the pages
the worker binds, or its ratio says nothing."""
from __future__ import annotations

from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader

from benchmarks.dossier_floor import bind_floor
from workflows.dossier_build import Source, as_pdf


def test_the_dossier_floor_binds_every_page_of_the_documents(tmp_path):
    photo = tmp_path / "foto.jpg"
    Image.new("RGB", (400, 300), "red").save(photo, "JPEG")
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
    scan = tmp_path / "denuncia.pdf"
    scan.write_bytes(bytes(pdf.output()))
    documents = [("application/pdf", scan), ("image/jpeg", photo)]

    pages = bind_floor(documents, tmp_path / "floor.pdf")

    parts = [as_pdf(Source(str(n), "altro", "Altro", path.name, kind, "", path), tmp_path, n)
             for n, (kind, path) in enumerate(documents)]
    assert pages == sum(part.pages for part in parts) == 3
    assert len(PdfReader(tmp_path / "floor.pdf").pages) == 3
