"""The one date field of Gessin's forms: typed and shown as gg/mm/aaaa, with the Italian picker.

Every grid's form gets it for its peewee DateFields through `DateFormConverter` (Flask-Admin's
documented `model_form_converter`); the text is read by `workflows.dates.parse_date`, the
same parser as the claim page's workflow forms.
"""
from __future__ import annotations

import datetime as dt

from flask_admin.contrib.peewee.form import CustomModelConverter
from flask_admin.form import DatePickerWidget
from flask_babel import lazy_gettext as _l
from wtforms import fields

from workflows import dates

PICKER_FORMAT = "DD/MM/YYYY"  # moment.js's spelling of dates.DATE_FORMAT


class ItalianDatePickerWidget(DatePickerWidget):
    """Flask-Admin's picker, writing dd/mm/yyyy into the field, with a hint of the format."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("data-date-format", PICKER_FORMAT)
        kwargs.setdefault("placeholder", _l("gg/mm/aaaa"))
        kwargs.setdefault("autocomplete", "off")
        return super().__call__(field, **kwargs)


class ItalianDateField(fields.DateField):
    widget = ItalianDatePickerWidget()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.pop("format", None)
        super().__init__(label, validators, format=dates.DATE_FORMAT, **kwargs)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return dates.format_date(self.data) if isinstance(self.data, dt.date) else ""

    def process_formdata(self, valuelist):
        text = " ".join(valuelist or ()).strip()
        if not text:
            self.data = None
            return
        try:
            self.data = dates.parse_date(text)
        except dates.InvalidDate as exc:
            self.data = None
            raise ValueError(str(exc.message)) from None


class DateFormConverter(CustomModelConverter):
    """Flask-Admin's peewee converter, with `ItalianDateField` for every DateField."""

    def handle_date(self, model, field, **kwargs):
        return field.name, ItalianDateField(**kwargs)
