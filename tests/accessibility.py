"""What tests check of a page for people using assistive technology: a name for every field."""
from __future__ import annotations

from html.parser import HTMLParser

UNNAMED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Fields(HTMLParser):
    """Every form field of a page, and how it is named (WCAG 2.1, 1.3.1 and 4.1.2)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: list[dict] = []
        self.label_for: set[str] = set()
        self.open_labels = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea"):
            if tag == "input" and (attrs.get("type") or "text").lower() in UNNAMED_TYPES:
                return
            self.fields.append({**attrs, "_tag": tag, "_in_label": self.open_labels > 0})

    def handle_endtag(self, tag):
        if tag == "label" and self.open_labels:
            self.open_labels -= 1


def unnamed_fields(html: str) -> list[str]:
    """The fields no label, aria-label, aria-labelledby or title names."""
    parser = Fields()
    parser.feed(html)
    return [f"<{f['_tag']} name={f.get('name')!r} id={f.get('id')!r}>" for f in parser.fields
            if not (f["_in_label"] or f.get("aria-label") or f.get("aria-labelledby") or f.get("title")
                    or (f.get("id") and f["id"] in parser.label_for))]
