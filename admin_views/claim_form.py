"""The claim form as the Modulo Blu lays it out: its sections, what must be filled in when a
claim is entered by hand, and no party chosen for the clerk."""
from __future__ import annotations

import warnings

from flask_admin.form import rules
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms.validators import InputRequired

from workflows import claim_edits

SECTIONS = (
    (_l("Soggetti"), ("repairer", "asp_centre")),
    (_l("Cliente (danneggiato)"), ("customer_name", "customer_fiscal_code", "customer_phone", "customer_email",
                                   "customer_address", "customer_iban")),
    (_l("Sinistro"), ("accident_date", "accident_time", "accident_place", "vehicle_count", "signed_by_both",
                      "witnesses", "insurer")),
    (_l("Veicolo A (del cliente)"), ("vehicle_a_plate", "vehicle_a_country", "vehicle_a_insurer", "vehicle_a_policy",
                                     "vehicle_a_driver", "vehicle_a_circumstances")),
    (_l("Veicolo B (controparte)"), ("vehicle_b_plate", "vehicle_b_country", "vehicle_b_insurer", "vehicle_b_policy",
                                     "vehicle_b_driver", "vehicle_b_circumstances")),
    (_l("Feriti"), ("injuries", "injured_persons", "injured_driver_a_only", "passengers_injured", "disability_pct")),
    # What a request for personal injury must carry (art. 148 c.2 CdA), for the claim letter.
    (_l("Danni alla persona"), ("injured_birth_date", "injured_occupation", "injured_income", "injury_extent",
                                "art142_declaration")),
    (_l("Importi"), ("estimate_amount", "claimed_amount")),
    (_l("Note"), ("notes",)),
)
assert sorted(n for _label, names in SECTIONS for n in names) == sorted(claim_edits.FORM_FIELDS), \
    "every field of the claim form is in exactly one section"

# A claim entered by hand says at least whose it is, whose the damage, when, and which car.
REQUIRED_ON_ENTRY = ("repairer", "asp_centre", "customer_name", "accident_date", "vehicle_a_plate")
BLANK_CHOICES = {
    "repairer": _l("— scegli la carrozzeria —"),
    "asp_centre": _l("— scegli il centro ASP —"),
    "insurer": _l("— secondo la procedura (veicolo A o B) —"),  # none chosen: `who_pays` names it
    "vehicle_a_insurer": _l("— nessuna —"),
    "vehicle_b_insurer": _l("— nessuna —"),
}


def require(form, names) -> None:
    """Mark the fields required (the form's asterisk) and refuse the form without them."""
    for name in names:
        if name in form:
            field = form[name]
            field.validators = [InputRequired(message=str(_l("Campo obbligatorio."))), *field.validators]
            field.flags.required = True


class HiddenField(rules.Field):
    """A hidden field (the CSRF token) named in the rules, so that Flask-Admin keeps it in
    the form (it drops every field the rules leave out); the form's `hidden_tag()` draws it."""

    def __call__(self, form, form_opts=None, field_args=None):
        return Markup("")


# The edit form is built from the same columns as the entry form; Flask-Admin drops the
# parties from it because its rules leave them out, as they must be, and says so each time.
warnings.filterwarnings("ignore", message="Fields missing from ruleset: repairer,asp_centre", category=UserWarning)


def ruleset(with_parties: bool) -> list:
    """The form's rules: the CSRF token, then one fieldset per section."""
    return [HiddenField("csrf_token")] + [rules.FieldSet(fields, label) for label, fields in SECTIONS
                                          if with_parties or not set(fields) & set(claim_edits.PARTY_FIELDS)]
