"""Form fields shared by every grid form: money is typed and shown the Italian way."""
from __future__ import annotations

from wtforms import StringField

from models.base import MoneyField
from workflows import amounts

from .date_fields import DateFormConverter


class AmountField(StringField):
    """A text input for euro amounts (a number input drops the decimal comma).

    Reads what was typed with the workflows' parser ("1.500,00", "1500", "€ 1.500") and
    shows a stored amount back as "€ 1.500,00"; what was typed stays in the box when refused.
    """

    def __init__(self, label=None, validators=None, column: MoneyField | None = None, **kwargs):
        kwargs.pop("places", None)  # wtf-peewee's DecimalField arguments: the column says it all
        kwargs.pop("rounding", None)
        kwargs["render_kw"] = {"inputmode": "decimal", "autocomplete": "off", "placeholder": "0,00",
                               **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, **kwargs)
        self.column = column

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = amounts.parse_amount(valuelist[0], self.column, zero_allowed=True, field=self.name)
            except amounts.InvalidAmount as exc:
                raise ValueError(str(exc.message))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return f"€ {amounts.italian(self.data)}" if self.data is not None else ""


class GessinModelConverter(DateFormConverter):
    """Flask-Admin's peewee converter, with every MoneyField as an AmountField and every
    DateField as an ItalianDateField, for every model."""

    def __init__(self, view, additional=None):
        super().__init__(view, {MoneyField: self.handle_money, **(additional or {})})

    def handle_money(self, model, field, **kwargs):
        return field.name, AmountField(column=field, **kwargs)
