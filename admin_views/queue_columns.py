"""What each work queue shows beyond the claims grid's columns, for the job done there, and
the duplicate flag every grid shows beside the claim's number."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from models import Attachment, Claim
from workflows import checklist, money

from .formatters import column, euro, when
from .list_rows import by_key, row_url

# slug -> the columns inserted after the state
EXTRA = {
    "to-validate": ("completeness",),
    "awaiting-offer": ("claim_filed_on",),
    "partially-reimbursed": ("claimed_amount", "reimbursed", "outstanding"),
}
LABELS = {
    "completeness": _l("Documentazione"),
    "claim_filed_on": _l("Richiesta ricevuta dalla compagnia il"),
    "claimed_amount": _l("Importo richiesto"),
    "reimbursed": _l("Rimborsato"),
    "outstanding": _l("Da recuperare"),
}
WITH_TOTALS = {"reimbursed", "outstanding"}  # read with the rows (money.with_totals), not row by row
# The claim's fields each column's cells read (None: the whole claim).
FIELDS = {
    "completeness": checklist.DATA_FIELDS,
    "claim_filed_on": (Claim.claim_filed_on,),
    "claimed_amount": (Claim.claimed_amount,),
    "reimbursed": (),
    "outstanding": (Claim.claimed_amount,),
}


def list_fields(grid_fields: tuple, extra_columns: tuple) -> tuple | None:
    """The fields a queue's list page reads: the grid's and its own columns' (None: all)."""
    extra = [FIELDS[name] for name in extra_columns]
    if any(fields is None for fields in extra):
        return None
    return tuple(dict.fromkeys(grid_fields + tuple(f for fields in extra for f in fields)))


def number_cell(view, m) -> Markup:
    """The claim's number as its link, flagged when it may duplicate another claim."""
    link = Markup(f'<a class="claim-number" href="{escape(row_url(view, ".details_view", m.id))}">{escape(m.number)}</a>')
    if not m.possible_duplicates:
        return link
    # No numbers here: they may name claims outside the user's scope (the claim page shows those it may open).
    return link + Markup(' <span class="badge badge-warning duplicate-flag" title="{}">{}</span>').format(
        _("Possibile duplicato di un'altra pratica: vedi la scheda"), _("duplicato?"))


def completeness(m) -> Markup:
    missing = checklist.missing_items(m)
    if not missing:
        return Markup('<span class="badge badge-success">{}</span>').format(_("completa"))
    words = "; ".join(checklist.describe(code) for code in missing)
    return Markup('<span class="small">{} {}</span>').format(_("Mancano:"), escape(words))


def euro_cell(value) -> str:
    return euro(money.as_money(value)) if value is not None else ""


FORMATTERS = {
    # drawn once per set of missing items (list_rows.by_key)
    "completeness": by_key(lambda m: tuple(checklist.missing_items(m)))(lambda v, c, m, n: completeness(m)),
    "claim_filed_on": column(when),
    "claimed_amount": lambda v, c, m, n: euro_cell(m.claimed_amount),
    "reimbursed": lambda v, c, m, n: euro_cell(getattr(m, "reimbursed", None)),
    "outstanding": lambda v, c, m, n: euro_cell(money.outstanding(m.claimed_amount, getattr(m, "reimbursed", None))),
}


def read_document_kinds(rows) -> None:
    """The kinds of documents of a page's claims, in one query, for the completeness column."""
    kinds: dict[int, set[str]] = {row.id: set() for row in rows}
    for claim_id, kind in (Attachment.select(Attachment.claim, Attachment.kind)
                           .where(Attachment.claim.in_(list(kinds))).distinct().tuples()):
        kinds[claim_id].add(kind)
    for row in rows:
        row._present_kinds = kinds[row.id]
