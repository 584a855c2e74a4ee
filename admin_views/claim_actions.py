"""The small form behind each workflow button on the claim page.

Each event of the transition table gets its fields here (the table says which
data it needs; this says how a clerk enters it). The form posts to
`ClaimView.act`, which hands the values to `workflows.engine.apply`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from models import AspCentre, Claim, InsuranceCompany, Lawyer, LawyerCentre, PrescriptionInterruption, Repairer
from models.claims import OFFER_ANSWERS, PROCEDURES
from workflows import checklist, clock, dates, next_due
from workflows.parties import ensure_own_desk
from workflows.transitions import OUTCOME_REASONS


@dataclass
class Field:
    name: str
    label: object
    kind: str = "text"  # text, textarea, date, money, checkbox, select, checklist
    required: bool = False
    choices: list = field(default_factory=list)
    value: object = None
    errors: list = field(default_factory=list)  # Italian messages, shown under the input


@dataclass
class FailedAction:
    """An action the engine refused: what was posted, and the (field, message) errors it gave."""
    event: str
    form: object  # the posted form (a MultiDict)
    errors: list
    on_top: list = field(default_factory=list)  # messages of no field of the form (a Conflict...)

    def fill(self, fields: list[Field]) -> None:
        """Put back in `fields` every posted value and each error under its field."""
        names = {f.name for f in fields}
        for f in fields:
            f.value = posted_value(f, self.form)
            f.errors = [str(message) for name, message in self.errors if name == f.name]
        for name, message in self.errors:
            if name not in names and str(message) not in self.on_top:
                self.on_top.append(str(message))


def posted_value(spec: Field, form):
    """What the user had in `spec`'s input, as the template shows it."""
    if spec.kind == "checklist":
        return set(form.getlist(spec.name))
    if spec.kind == "checkbox":
        return form.get(spec.name) == "y"
    return form.get(spec.name, "")


def _note(required=False, label=None):
    return Field("note", label or _l("Nota"), "textarea", required=required)


def _lawyers(claim: Claim, include_desk: bool) -> list[tuple[str, str]]:
    lawyers = (Lawyer.select().join(LawyerCentre)
               .where(LawyerCentre.asp_centre == claim.asp_centre_id, Lawyer.active == True)  # noqa: E712
               .order_by(Lawyer.name))
    choices = [(str(lw.id), lw.name) for lw in lawyers if lw.id != claim.lawyer_id]
    if include_desk:
        desk = ensure_own_desk(claim.asp_centre)
        if desk.id != claim.lawyer_id:
            choices.insert(0, ("self", f"{desk.name} ({_l('auto-affidamento')})"))
    return choices


def _insurers(claim: Claim) -> list[tuple[str, str]]:
    rows = InsuranceCompany.select().where(InsuranceCompany.active == True).order_by(InsuranceCompany.name)  # noqa: E712
    return [(str(i.id), i.name) for i in rows]


def _active(model) -> list[tuple[str, str]]:
    return [(str(row.id), row.name) for row in model.select(model.id, model.name)
            .where(model.active == True).order_by(model.name)]  # noqa: E712


def _reasons():
    return [(code, str(label)) for code, label in OUTCOME_REASONS.items()]


def _choices(pairs) -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in pairs]


# The events that record what the legal terms need: (name, label, kind, choices) of each field.
TERM_FIELDS = {
    "request_missing": [("requested_on", _l("Richiesta della compagnia del"), "date", None),
                        ("items", _l("Che cosa chiede la compagnia"), "textarea", None)],
    "send_missing": [("sent_on", _l("Integrazione inviata il"), "date", None)],
    "answer_offer": [("answer", _l("Risposta del cliente"), "select", OFFER_ANSWERS),
                     ("answered_on", _l("Risposta del"), "date", None)],
    "interrupt_prescription": [("interrupted_on", _l("Data della lettera"), "date", None),
                               ("means", _l("Mezzo"), "select", PrescriptionInterruption.MEANS)],
}


def fields_for(event: str, claim: Claim) -> list[Field]:
    today = dates.format_date(clock.today())  # as the date inputs show and read it: gg/mm/aaaa
    if event == "mark_incomplete":
        missing = set(checklist.missing_items(claim))
        return [Field("missing", _l("Cosa manca"), "checklist", required=True,
                      choices=checklist.all_items(), value=missing), _note(label=_l("Nota per la carrozzeria"))]
    if event == "assign":
        return [Field("lawyer", _l("Legale"), "select", True, _lawyers(claim, include_desk=False)), _note()]
    if event == "reassign":
        return [Field("lawyer", _l("Nuovo legale"), "select", True, _lawyers(claim, include_desk=True)), _note()]
    if event == "file_claim":
        return [Field("filed_on", _l("Richiesta danni ricevuta dalla compagnia il"), "date", True, value=today),
                Field("procedure", _l("Procedura"), "select", True, _choices(PROCEDURES),
                      value=next_due.procedure_of(claim)),
                Field("signed_by_both", _l("Modulo Blu firmato da entrambi i conducenti"), "checkbox",
                      value=claim.signed_by_both),
                Field("injuries", _l("Ci sono feriti"), "checkbox", value=claim.injuries), _note()]
    if event in ("record_offer", "record_payment"):
        fields = [Field("amount", _l("Importo (€)"), "money", True),
                  Field("on_date", _l("Data"), "date", True, value=today),
                  Field("payer", _l("Compagnia"), "select", False, _insurers(claim), value=str(claim.insurer_id or ""))]
        if event == "record_payment":
            fields.append(Field("final", _l("Rimborso a saldo: chiude la pratica"), "checkbox"))
        return fields + [_note()]
    if event in TERM_FIELDS:
        return [Field(name, label, kind, True, _choices(choices) if choices else [],
                      value=today if kind == "date" else None) for name, label, kind, choices in TERM_FIELDS[event]] \
            + [_note()]
    if event in ("close", "drop"):
        return [Field("reason", _l("Motivo"), "select", True, _reasons()), _note()]
    if event == "cancel":
        return [_note(required=True, label=_l("Perché va annullata (aperta per errore)"))]
    if event == "reopen":
        return [_note(required=True, label=_l("Motivo della riapertura"))]
    if event == "transfer":
        return [Field("repairer", _l("Carrozzeria"), "select", True, _active(Repairer), value=str(claim.repairer_id)),
                Field("asp_centre", _l("Centro ASP"), "select", True, _active(AspCentre),
                      value=str(claim.asp_centre_id)),
                _note(required=True, label=_l("Motivo del trasferimento"))]
    return [_note()]


def read_form(event: str, claim: Claim, form) -> dict:
    """The values `engine.apply` takes, from a posted form."""
    data = {}
    for spec in fields_for(event, claim):
        if spec.kind == "checklist":
            data[spec.name] = form.getlist(spec.name)
        elif spec.kind == "checkbox":
            data[spec.name] = form.get(spec.name) == "y"
        elif form.get(spec.name, "").strip():
            data[spec.name] = form.get(spec.name).strip()
    return data
