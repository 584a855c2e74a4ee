"""Form fields shared by the grid forms: money typed and shown the Italian way, the Modulo Blu's boxes."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from models.base import MoneyField
from workflows import amounts, circumstances

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


class CircumstancesField(SelectMultipleField):
    """The 17 boxes of the Modulo Blu's section 12, each with its official wording; stored
    as the claim keeps them, the numbers ticked ("1,7"), as WinCar sends them."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, **kwargs):
        for name in ("allow_blank", "blank_text", "coerce", "choices"):  # what a CharField's converter passes
            kwargs.pop(name, None)
        super().__init__(label, validators, coerce=int,
                         choices=[SelectChoice(n, f"{n}. {words}") for n, words in circumstances.WORDINGS.items()],
                         **kwargs)

    def process_data(self, value):
        self.data = circumstances.numbers(value) if isinstance(value, str) or value is None else list(value)

    def pre_validate(self, form):
        known = set(circumstances.WORDINGS)
        if any(n not in known for n in self.data or ()):
            raise ValidationError(str(_l("Circostanza sconosciuta: scegli tra le 17 del Modulo Blu.")))

    def populate_obj(self, obj, name):
        setattr(obj, name, ",".join(str(n) for n in sorted(set(self.data or ()))) or None)
