"""Concatenating PDFs into one file while holding one part in memory at a time.

pypdf's `PdfWriter` and qpdf (pikepdf) both keep every copied page's streams until the
output is written: for a 40 MB dossier, 40 MB more in the worker. Here each part is read
with pypdf, the objects its pages reach are renumbered and written out at once, and the
part is dropped before the next is opened; a new page tree and catalogue close the file,
with its cross-reference table. Only the pages and what they reach are copied: a part's
outlines, forms and names are not (the dossier has its own cover and index).
"""
from __future__ import annotations

from collections import deque
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

ROOT, PAGES = 1, 2  # the object numbers of the new catalogue and page tree


class _Part:
    """One input part: its objects' new numbers, allocated as references are met."""

    def __init__(self, reader: PdfReader, allocate):
        self.reader, self.allocate, self.numbers = reader, allocate, {}
        self.pending: deque[tuple[int, int]] = deque()

    def number_of(self, ref: IndirectObject) -> int:
        key = (ref.idnum, ref.generation)
        if key not in self.numbers:
            self.numbers[key] = self.allocate()
            self.pending.append(key)
        return self.numbers[key]

    def renumbered(self, obj: PdfObject, page: bool = False) -> PdfObject:
        """`obj` with every reference to this part's objects turned into its new number.

        Dictionaries and arrays are copied, never changed: pypdf shares a page tree's inherited
        resources among its pages, and each page must see the original references. A stream is
        reached only through its own reference, once: its dictionary is renumbered in place.
        """
        if isinstance(obj, IndirectObject):
            return IndirectObject(self.number_of(obj), 0, None)
        if isinstance(obj, StreamObject):
            for key in list(obj.keys()):
                obj[NameObject(key)] = self.renumbered(obj.raw_get(key))
            return obj
        if isinstance(obj, DictionaryObject):
            copy = DictionaryObject()
            for key in obj.keys():
                copy[NameObject(key)] = IndirectObject(PAGES, 0, None) if page and key == "/Parent" \
                    else self.renumbered(obj.raw_get(key))
            return copy
        if isinstance(obj, ArrayObject):
            return ArrayObject(self.renumbered(item) for item in obj)
        return obj


def concatenate(paths: list[Path], target: Path) -> int:
    """Write the pages of `paths`, in order, to `target`; returns the page count."""
    offsets: dict[int, int] = {}
    counter = iter(range(PAGES + 1, 1 << 31))
    kids: list[int] = []
    with open(target, "wb") as out:
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        for path in paths:
            part = _Part(PdfReader(path), lambda: next(counter))
            page_keys = set()
            for page in part.reader.pages:
                ref = page.indirect_reference
                kids.append(part.number_of(ref))
                page_keys.add((ref.idnum, ref.generation))
            while part.pending:
                key = part.pending.popleft()
                obj = part.reader.get_object(IndirectObject(key[0], key[1], part.reader))
                obj = NullObject() if obj is None else obj
                _write(out, offsets, part.numbers[key], part.renumbered(obj, page=key in page_keys))
            del part  # this part's objects go before the next part is read
        catalogue = DictionaryObject({NameObject("/Type"): NameObject("/Catalog"),
                                      NameObject("/Pages"): IndirectObject(PAGES, 0, None)})
        tree = DictionaryObject({NameObject("/Type"): NameObject("/Pages"),
                                 NameObject("/Kids"): ArrayObject(IndirectObject(n, 0, None) for n in kids),
                                 NameObject("/Count"): NumberObject(len(kids))})
        _write(out, offsets, ROOT, catalogue)
        _write(out, offsets, PAGES, tree)
        size = max(offsets) + 1
        xref = out.tell()
        out.write(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
        for number in range(1, size):
            out.write(f"{offsets[number]:010d} 00000 n \n".encode() if number in offsets else b"0000000000 65535 f \n")
        out.write(f"trailer\n<< /Size {size} /Root {ROOT} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return len(kids)


def _write(out, offsets: dict[int, int], number: int, obj: PdfObject) -> None:
    offsets[number] = out.tell()
    out.write(f"{number} 0 obj\n".encode())
    obj.write_to_stream(out)
    out.write(b"\nendobj\n")
