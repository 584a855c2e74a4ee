"""The small form behind each workflow button on the claim page.

Each event of the transition table gets its fields here (the table says which
data it needs; this says how a clerk enters it). The form posts to
`ClaimView.act`, which hands the values to `workflows.engine.apply`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from models import AspCentre, Claim, InsuranceCompany, Lawyer, LawyerCentre, PrescriptionInterruption, Repairer, \
    TermSuspension
from models.claims import OFFER_ANSWERS, PROCEDURES
from workflows import checklist, clock, dates, next_due, term_events
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


# The events that record what the legal terms need: (name, label, kind, choices, required) of
# each field. A day of receipt may be unknown when the sending is recorded: it is left empty
# ("in attesa di ricevuta") and recorded later with its own event.
RECEIVED = _l("Ricevuta dalla compagnia il (se nota)")
TERM_FIELDS = {
    "request_missing": [("requested_on", _l("Richiesta della compagnia del"), "date", None, True),
                        ("items", _l("Che cosa chiede la compagnia"), "textarea", None, True)],
    "send_missing": [("sent_on", _l("Integrazione inviata il"), "date", None, True),
                     ("received_on", RECEIVED, "date", None, False)],
    "receive_missing": [("received_on", _l("Integrazione ricevuta dalla compagnia il"), "date", None, True)],
    "refuse_offer": [("refused_on", _l("Diniego ricevuto il"), "date", None, True),
                     ("reason", _l("Motivi indicati dalla compagnia"), "textarea", None, True)],
    "fraud_check": [("notified_on", _l("Comunicazione ricevuta il"), "date", None, True)],
    "answer_offer": [("answer", _l("Risposta del cliente"), "select", OFFER_ANSWERS, True),
                     ("answered_on", _l("Risposta inviata il"), "date", None, True),
                     ("received_on", RECEIVED, "date", None, False)],
    "receive_answer": [("received_on", _l("Risposta ricevuta dalla compagnia il"), "date", None, True)],
    "suspend_offer_term": [("kind", _l("Che cosa ha rifiutato il danneggiato"), "select", TermSuspension.KINDS, True),
                           ("start_on", _l("Rifiuto del"), "date", None, True)],
    "end_suspension": [("end_on", _l("Sospensione finita il"), "date", None, True)],
    "interrupt_prescription": [("sent_on", _l("Lettera inviata il"), "date", None, True),
                               ("received_on", RECEIVED, "date", None, False),
                               ("means", _l("Mezzo"), "select", PrescriptionInterruption.MEANS, True)],
    "receive_demand": [("received_on", _l("Ricevuta dalla compagnia il"), "date", None, True)],
}


def _pending_demands(claim: Claim) -> list[tuple[str, str]]:
    return [(str(row.id), f"{dates.format_date(row.on_date)} · {row.means_label or ''}")
            for row in term_events.pending_demands(claim)]


def _term_fields(event: str, claim: Claim, today: str) -> list[Field]:
    fields = [Field(name, label, kind, required, _choices(choices) if choices else [],
                    value=today if kind == "date" and required else None)
              for name, label, kind, choices, required in TERM_FIELDS[event]]
    if event == "receive_demand":
        fields.insert(0, Field("demand", _l("Richiesta inviata il"), "select", True, _pending_demands(claim)))
    return fields + [_note()]


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
                Field("personal_injury", _l("La richiesta comprende danni alla persona (90 giorni)"), "checkbox",
                      value=claim.personal_injury), _note()]
    if event in ("record_offer", "record_payment"):
        fields = [Field("amount", _l("Importo (€)"), "money", True),
                  Field("on_date", _l("Data"), "date", True, value=today),
                  Field("payer", _l("Compagnia"), "select", False, _insurers(claim), value=str(claim.insurer_id or ""))]
        if event == "record_payment":
            fields.append(Field("final", _l("Rimborso a saldo: chiude la pratica"), "checkbox"))
        return fields + [_note()]
    if event in TERM_FIELDS:
        return _term_fields(event, claim, today)
    if event == "longer_prescription":
        return [Field("years", _l("Anni di prescrizione"), "text", True, value=claim.prescription_years or ""),
                Field("reason", _l("Reato e motivo (art. 2947 c.3 c.c.)"), "textarea", False,
                      value=claim.prescription_reason or ""), _note()]
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
