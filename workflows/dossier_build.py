"""Binding a claim's documents into one PDF: the worker's half of `workflows.dossier`.

Three steps, each holding at most one document in memory, never the whole file:

1. each document becomes a PDF part on disk: a PDF is opened with pypdf and its pages
   counted (an encrypted one that no empty password opens, or one pypdf cannot read, is
   left out with the reason); an image becomes one A4 page with img2pdf (JPEG bytes are
   embedded as they are, never decoded); a document missing from storage is left out too;
2. the cover (fpdf2) lists every part with its type, pages, first page and sha256, and
   every document left out; then each part is stamped "pag. N di M" with pypdf (an
   overlay page merged onto each page, its size and rotation followed) into its own file;
3. the stamped parts are concatenated into the output one part at a time, each page's
   objects written out as they are read (`workflows.pdf_concat`): the dossier is streamed
   to disk, not assembled in memory.

A part that fails while stamped (damage pypdf finds only then) is left out too, and the
numbering starts again, so the cover and the page numbers always match what is bound.
"""
from __future__ import annotations

import hashlib
import io
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import img2pdf
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.errors import PyPdfError

from .pdf import A4_POINTS
from .pdf_concat import concatenate

log = logging.getLogger("gessin.workflows")

IMAGE_TYPES = ("image/jpeg", "image/png", "image/tiff")
A4_LAYOUT = img2pdf.get_layout_fun(pagesize=A4_POINTS, fit=img2pdf.FitMode.into, auto_orient=True)
STAMP_SIZE = 8  # points


@dataclass
class Source:
    """One document to bind: where its bytes are and what the cover says of it."""

    key: str  # the attachment's id, or "letter" for a letter generated for the dossier
    kind: str
    label: str  # the type, in Italian
    name: str
    content_type: str
    sha256: str
    path: Path


@dataclass
class Part:
    source: Source
    path: Path  # a PDF
    pages: int
    first_page: int = 0


@dataclass
class LeftOut:
    name: str
    label: str
    reason: str

    def as_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "reason": self.reason}


@dataclass
class Bound:
    path: Path
    pages: int
    size: int
    sha256: str
    parts: list[Part]
    left_out: list[LeftOut] = field(default_factory=list)
    stamped: list[Path] = field(default_factory=list)  # the numbered parts, cover first, the file is made of


class Unreadable(Exception):
    """A document that cannot be bound in; the message is the reason, in Italian."""


def as_pdf(source: Source, work: Path, index: int) -> Part:
    """The document as a PDF part on disk, its pages counted, or `Unreadable` with the reason."""
    if not source.path.exists():
        raise Unreadable("file non trovato nell'archivio dei documenti")
    if source.content_type in IMAGE_TYPES:
        return _image_part(source, work / f"part-{index:04d}.pdf")
    if source.content_type != "application/pdf":
        raise Unreadable(f"formato non rilegabile ({source.content_type})")
    try:
        reader = PdfReader(source.path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("PDF protetto da password")
        pages = len(reader.pages)
        for page in reader.pages:  # each page's box and rotation: a broken page tree shows here
            _ = page.cropbox.width, page.rotation
    except Unreadable:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError, NotImplementedError) as exc:
        raise Unreadable(f"PDF danneggiato o illeggibile ({type(exc).__name__})") from exc
    if pages == 0:
        raise Unreadable("PDF senza pagine")
    return Part(source, source.path, pages)


def _image_part(source: Source, target: Path) -> Part:
    try:
        with open(target, "wb") as out:
            img2pdf.convert(str(source.path), layout_fun=A4_LAYOUT, outputstream=out, rotation=img2pdf.Rotation.ifvalid)
    except img2pdf.AlphaChannelError:
        _flattened_image(source, target)
    except Exception as exc:  # noqa: BLE001 - img2pdf and Pillow raise many kinds for a bad image
        target.unlink(missing_ok=True)
        raise Unreadable(f"immagine danneggiata o illeggibile ({type(exc).__name__})") from exc
    return Part(source, target, len(PdfReader(target).pages))  # a TIFF may hold several pages


def _flattened_image(source: Source, target: Path) -> None:
    """A PNG with transparency: img2pdf keeps images lossless and refuses an alpha channel,
    so the image is laid on white first (Pillow), then converted."""
    from PIL import Image
    try:
        with Image.open(source.path) as image:
            flat = Image.new("RGB", image.size, "white")
            flat.paste(image, mask=image.convert("RGBA").split()[-1])
        png = target.with_suffix(".png")
        flat.save(png)
        with open(target, "wb") as out:
            img2pdf.convert(str(png), layout_fun=A4_LAYOUT, outputstream=out)
        png.unlink()
    except Exception as exc:  # noqa: BLE001
        target.unlink(missing_ok=True)
        raise Unreadable(f"immagine danneggiata o illeggibile ({type(exc).__name__})") from exc


def stamp(part_path: Path, target: Path, first: int, total: int) -> int:
    """Write `part_path` to `target` with "pag. N di M" at the foot of every page, from N = `first`.

    The overlay is an fpdf2 page of the same size as each page; a rotated page has its
    rotation moved into its content first, so the number reads upright at the bottom.
    """
    reader = PdfReader(part_path)
    if reader.is_encrypted:  # only those the empty password opens get here (`as_pdf`)
        reader.decrypt("")
    writer = PdfWriter()
    writer.append(reader)
    sizes = []
    for page in writer.pages:
        if page.rotation:
            page.transfer_rotation_to_content()
        box = page.cropbox
        sizes.append((float(box.left), float(box.bottom), float(box.width), float(box.height)))
    overlay = PdfReader(_numbers(sizes, first, total))
    for page, number_page, (left, bottom, _w, _h) in zip(writer.pages, overlay.pages, sizes):
        page.merge_transformed_page(number_page, Transformation().translate(left, bottom))
    with open(target, "wb") as out:
        writer.write(out)
    return len(sizes)


def _numbers(sizes: list[tuple[float, float, float, float]], first: int, total: int):
    """One overlay page per page, its size in points, the number centred 14 pt above the foot on
    a white label (legible on a photo)."""
    pdf = FPDF(unit="pt")
    pdf.set_auto_page_break(False)
    pdf.set_font("helvetica", size=STAMP_SIZE)  # digits and "pag. di": Latin-1 is enough, nothing embedded
    for offset, (_left, _bottom, width, height) in enumerate(sizes):
        pdf.add_page(format=(width, height))
        text = f"pag. {first + offset} di {total}"
        pdf.set_xy(0, height - 14 - STAMP_SIZE)
        pdf.set_fill_color(255, 255, 255)
        pdf.set_x((width - pdf.get_string_width(text)) / 2 - 3)
        pdf.cell(pdf.get_string_width(text) + 6, STAMP_SIZE + 2, text, align="C", fill=True)
    return io.BytesIO(bytes(pdf.output()))


def file_digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


def bind(sources: list[Source], cover: Callable[[list[Part], list[LeftOut], int], Path], work: Path,
         target: Path, progress: Callable[[int], None] = lambda done: None) -> Bound:
    """The dossier of `sources` written to `target`: `cover(parts, left_out, total_pages)` writes the
    cover and returns its path (called until its page count is stable); `progress(done)` after each step."""
    parts, left_out, done = [], [], 0
    for index, source in enumerate(sources):
        try:
            parts.append(as_pdf(source, work, index))
        except Unreadable as exc:
            log.warning("dossier: %s (%s) left out: %s", source.name, source.kind, exc)
            left_out.append(LeftOut(source.name, source.label, str(exc)))
        done += 1
        progress(done)
    while True:
        cover_path, cover_pages, total = _cover(cover, parts, left_out, work)
        stamped, failed = [work / "stamped-cover.pdf"], None
        stamp(cover_path, stamped[0], 1, total)
        for part in parts:
            out = work / f"stamped-{len(stamped):04d}.pdf"
            try:
                stamp(part.path, out, part.first_page, total)
            except OSError:  # the scratch disk, not the document: the build fails and says so
                raise
            except Exception as exc:  # noqa: BLE001 - damage found only when the pages are copied
                failed = (part, exc)
                break
            stamped.append(out)
            done += 1
            progress(done)
        if failed is None:
            break
        part, exc = failed
        log.warning("dossier: %s left out while numbered: %s", part.source.name, exc)
        left_out.append(LeftOut(part.source.name, part.source.label,
                                f"PDF danneggiato o illeggibile ({type(exc).__name__})"))
        parts.remove(part)
    pages = concatenate(stamped, target)
    size, sha = file_digest(target)
    return Bound(target, pages, size, sha, parts, left_out, stamped)


def _cover(cover, parts: list[Part], left_out: list[LeftOut], work: Path) -> tuple[Path, int, int]:
    """Write the cover until the page numbers it prints are those the parts get."""
    cover_pages = 1 + (len(parts) + len(left_out)) // 30  # about what a page of the index holds: one render
    for _attempt in range(5):
        first = cover_pages + 1
        for part in parts:
            part.first_page, first = first, first + part.pages
        total = first - 1
        path = cover(parts, left_out, total)
        found = len(PdfReader(path).pages)
        if found == cover_pages:
            return path, cover_pages, total
        cover_pages = found
    raise RuntimeError("the cover's page count does not settle")


def copy_into(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
