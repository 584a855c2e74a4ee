"""'Invia all'ufficio sinistri' on the claim page, and what became of each sending
(workflows/claims_office.py and workflows/claims_office_delivery.py decide)."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from models import ClaimStatus
from workflows import claim_letter, claims_office, claims_office_delivery, dossier, insurer_addresses
from workflows.errors import Conflict, InvalidData, WorkflowError

MESSAGE = (
    "Spettabile ufficio sinistri,\n\n"
    "in allegato trasmettiamo la richiesta di risarcimento danni relativa alla pratica {number} "
    "(sinistro del {accident}, veicolo {plate}) con la documentazione a corredo.\n\n"
    "Restiamo in attesa di un'offerta motivata nei termini di legge (art. 148 D.Lgs. 209/2005).\n\n"
    "Distinti saluti\n{sender}"
)


class ClaimsOfficeMixin:
    def may_send_to_office(self, claim) -> bool:
        return claims_office.may_send(current_user._get_current_object(), claim)

    def office_form(self, claim) -> dict:
        """What the sending form starts from: the insurer's addresses, the documents with their sizes, the text."""
        insurer = insurer_addresses.addressee_insurer(claim)
        chosen = {d.id for d in dossier.default_selection(claim)}
        documents = [(doc, doc.id in chosen) for doc in sorted(claim.attachments, key=dossier.order_key)]
        ready = claims_office.dossier_file(claim)
        sender = claims_office.claim_letter.sender(claim)
        accident = claim.accident_date.strftime("%d/%m/%Y") if claim.accident_date else "-"
        return {
            "addresses": claims_office.addresses(claim), "insurer": insurer,
            "where_to_add": insurer_addresses.WHERE_TO_ADD, "documents": documents, "dossier": ready,
            "chosen_bytes": sum(doc.size for doc, on in documents if on),
            "limit": current_app.config["MAIL_MAX_ATTACHMENT_BYTES"], "megabytes": claims_office.megabytes,
            "message": MESSAGE.format(number=claim.number, accident=accident, plate=claim.vehicle_a_plate or "-",
                                      sender=sender.name),
        }

    @expose("/claims-office/<id:claim_id>/send", methods=["POST"])
    def send_to_office(self, claim_id: int):
        claim = self.get_one(claim_id)  # 404 outside the user's scope
        user = current_user._get_current_object()
        if not claims_office.may_send(user, claim):
            abort(403)
        details = self.get_url(".details_view", id=claim.id)
        form = request.form
        try:
            ids = claims_office.send(
                claim, user, to=form.get("to", ""), attachment_ids=form.getlist("attachments"),
                use_dossier=form.get("use_dossier") == "1", message=form.get("message", ""),
                split_ok=form.get("split") == "1", limit=current_app.config["MAIL_MAX_ATTACHMENT_BYTES"],
                sender=current_app.config.get("MAIL_DEFAULT_SENDER") or "")
        except InvalidData as exc:
            for _field, message in exc.errors:
                flash(str(message), "error")
            return redirect(details + "#claims-office")
        except WorkflowError as exc:
            flash(str(exc.message), "error")
            return redirect(details)
        flash(ngettext("In uscita verso l'ufficio sinistri: %(num)d messaggio.",
                       "In uscita verso l'ufficio sinistri: %(num)d messaggi.", len(ids)), "success")
        if claim.status == ClaimStatus.ASSIGNED:
            flash(_("La richiesta risulta inviata quando è consegnata: un'e-mail quando il server di posta la accetta, "
                    "una PEC quando ne registri la ricevuta di consegna."), "info")
        return redirect(details)

    def office_sendings(self, claim) -> list:
        """The claim's sendings and their state, for those who prepare what goes to the insurer."""
        if not claim_letter.may_prepare(current_user._get_current_object(), claim):
            return []
        return claims_office_delivery.of_claim(claim)

    @expose("/claims-office/<id:claim_id>/pec-receipt", methods=["POST"])
    def record_pec_receipt(self, claim_id: int):
        claim = self.get_one(claim_id)  # 404 outside the user's scope
        user = current_user._get_current_object()
        if not claim_letter.may_prepare(user, claim):
            abort(403)
        details = self.get_url(".details_view", id=claim.id)
        try:
            outcome = claims_office_delivery.record_pec_receipt(claim, user, request.form.get("sending", ""),
                                                                request.form.get("delivered_on", ""))
        except (InvalidData, Conflict) as exc:
            for _field, message in getattr(exc, "errors", [(None, exc.message)]):
                flash(str(message), "error")
            return redirect(details + "#claims-office-sent")
        except WorkflowError as exc:
            flash(str(exc.message), "error")
            return redirect(details)
        flash(_("Ricevuta di consegna registrata: la richiesta danni risulta ricevuta dalla compagnia.")
              if outcome == "filed" else _("Ricevuta di consegna registrata."), "success")
        return redirect(details)
