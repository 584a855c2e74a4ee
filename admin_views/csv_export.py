"""CSV exports that open right in Italian Excel, for every grid.

Excel in Italy splits a CSV on semicolons, guesses the encoding unless the file starts
with a byte-order mark, and reads `1500,00` as a number and `12/10/2026` as a date.
Each cell is written so (`export_cell`), in Rome time, with choices as their labels and
flags as Sì/No; text that a spreadsheet would run as a formula is neutralised first.

Flask-Admin writes its CSV with a comma and has no public setting for the separator:
`export` (its public, exposed view) is kept, with its permission check, filters, search
and sort through our scoped `get_list`, and each record it yields is rewritten with `;`.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from flask import Response
from flask_admin import expose
from flask_babel import gettext as _

from workflows import dates

from .formatters import spreadsheet_safe

BOM = "\ufeff"
DELIMITER = ";"


def decimal_comma(number) -> str:
    """`1500,00`: no thousands separator, which Excel could read as a decimal point."""
    return format(number, "f").replace(".", ",")


def export_cell(model, name, value):
    """One exported cell of column `name` of `model`, as Italian Excel reads it."""
    field = model._meta.fields.get(name) if isinstance(name, str) else None
    if field is not None and field.choices and isinstance(value, str):
        value = dict(field.choices).get(value, value)
    if isinstance(value, bool):
        return _("Sì") if value else _("No")
    if isinstance(value, (Decimal, float)):
        return decimal_comma(value)
    if isinstance(value, dt.datetime):
        return dates.format_moment(value)
    if isinstance(value, dt.date):
        return dates.format_date(value)
    return spreadsheet_safe(value)


def semicolon_records(records):
    """Flask-Admin's comma-separated records, each rewritten with ';', after a BOM."""
    yield BOM
    out = io.StringIO()
    writer = csv.writer(out, delimiter=DELIMITER)
    for record in records:
        text = record.decode("utf-8") if isinstance(record, bytes) else record
        for row in csv.reader(io.StringIO(text, newline="")):
            writer.writerow(row)
        yield out.getvalue()
        out.seek(0)
        out.truncate()


class ItalianCsvExport:
    """Mixin for a Flask-Admin ModelView: its CSV export with ';', a BOM and UTF-8."""

    @expose("/export/<export_type>/")
    def export(self, export_type):
        response = super().export(export_type)
        if export_type != "csv" or response.mimetype != "text/csv":
            return response  # refused (a redirect with a message) or another format
        return Response(semicolon_records(response.response), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": response.headers["Content-Disposition"]})
