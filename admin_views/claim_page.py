"""The claim page: its data in cards, attachments, payments, history and workflow buttons."""
from __future__ import annotations

import logging
from types import SimpleNamespace

from flask import abort, current_app, flash, redirect, request, send_file
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from models import Attachment, Claim, ClaimStatus, PrescriptionInterruption, QueueLimit, TermSuspension
from models.claims import OFFER_ANSWERS, PROCEDURES
from workflows import access, checklist, circumstances, clock, duplicates, engine, money, next_due
from workflows.attachments import download_name, previewable, storage_path, stored_type
from workflows.errors import Conflict, InvalidData, WorkflowError
from workflows.transitions import OUTCOME_WORDS, TRANSITIONS

from .claim_actions import FailedAction, fields_for, read_form
from .claim_documents import ClaimDocumentsMixin
from .claims_office import ClaimsOfficeMixin
from .formatters import days_since, euro, status_badge, when
from .insurers import debtor_as_sent, insurer_as_sent

log = logging.getLogger("gessin.admin")


class ClaimPageMixin(ClaimDocumentsMixin, ClaimsOfficeMixin):
    """What `ClaimView` shows and does on one claim (the template is admin/claim_details.html)."""

    def claim_sections(self, claim):
        """The claim's data, grouped as a clerk reads it."""
        yes_no = lambda v: _("Sì") if v else _("No")  # noqa: E731
        side = lambda s: [  # noqa: E731
            (_("Targa"), getattr(claim, f"vehicle_{s}_plate")),
            (_("Nazione"), getattr(claim, f"vehicle_{s}_country")),
            (_("Compagnia"), insurer_as_sent(claim, s)),
            (_("Polizza"), getattr(claim, f"vehicle_{s}_policy")),
            (_("Conducente"), getattr(claim, f"vehicle_{s}_driver")),
            (_("Circostanze"), circumstances.describe(getattr(claim, f"vehicle_{s}_circumstances"))
             or getattr(claim, f"vehicle_{s}_circumstances")),
        ]
        return [
            (_("Pratica"), [
                (_("Numero denuncia web"), claim.number),
                (_("Stato"), status_badge(claim.status)),
                (_("Nello stato da"), days_since(claim.status_since)),
                (_("Ricevuta il"), when(claim.received_at)),
                (_("Origine"), dict(Claim.SOURCES).get(claim.source, claim.source)),
                (_("Riferimento WinCar"), claim.wincar_ref),
                (_("Possibili duplicati"), self._duplicates_text(claim)),
                *([(_("Esito"), self._outcome_text(claim))] if claim.status in ClaimStatus.FINAL else []),
            ]),
            (_("Soggetti"), [
                (_("Carrozzeria"), claim.repairer),
                (_("Centro ASP"), claim.asp_centre),
                (_("Legale"), claim.lawyer),
                (_("Compagnia debitrice"), debtor_as_sent(claim)),
            ]),
            (_("Cliente"), [
                (_("Nome"), claim.customer_name),
                (_("Codice fiscale"), claim.customer_fiscal_code),
                (_("Telefono"), claim.customer_phone),
                (_("E-mail"), claim.customer_email),
                (_("Indirizzo"), claim.customer_address),
            ]),
            (_("Sinistro (Modulo Blu)"), [
                (_("Data"), when(claim.accident_date)),
                (_("Ora"), claim.accident_time.strftime("%H:%M") if claim.accident_time else ""),
                (_("Luogo"), claim.accident_place),
                (_("Veicoli coinvolti"), claim.vehicle_count),
                (_("Feriti"), yes_no(claim.injuries)),
                (_("Persone ferite"), claim.injured_persons),
                (_("Ferito solo il conducente A"), "" if claim.injured_driver_a_only is None
                 else yes_no(claim.injured_driver_a_only)),
                (_("Passeggeri feriti"), "" if claim.passengers_injured is None else yes_no(claim.passengers_injured)),
                (_("Invalidità permanente conducente A"), f"{claim.disability_pct} %" if claim.disability_pct else ""),
                (_("Testimoni"), claim.witnesses),
                (_("Firmato da entrambi i conducenti"), yes_no(claim.signed_by_both)),
            ]),
            (_("Veicolo A"), side("a")),
            (_("Veicolo B"), side("b")),
            (_("Importi e date"), [
                (_("Preventivo"), euro(claim.estimate_amount)),
                (_("Importo richiesto"), euro(claim.claimed_amount)),
                *self._money_rows(claim),
                (_("Documentazione completa dal"), when(claim.complete_since)),
                (_("Richiesta danni ricevuta dalla compagnia il"), when(claim.claim_filed_on)),
                (_("Procedura"), dict(PROCEDURES).get(claim.procedure, "")),
                (_("Integrazione chiesta dalla compagnia il"), when(claim.missing_requested_on)),
                (_("Integrazione chiesta"), claim.missing_requested_items),
                (_("Integrazione inviata il"), when(claim.missing_sent_on)),
                (_("Integrazione ricevuta dalla compagnia il"), self._received(claim.missing_sent_on,
                                                                              claim.missing_received_on)),
                (_("Approfondimento antifrode comunicato il"), when(claim.fraud_check_on)),
                (_("Diniego motivato della compagnia del"), when(claim.offer_refused_on)),
                (_("Motivi del diniego"), claim.refusal_reason),
                (_("Prima offerta del"), when(claim.offer_received_on)),
                (_("Risposta all'offerta"), dict(OFFER_ANSWERS).get(claim.offer_answer, "")),
                (_("Risposta inviata il"), when(claim.offer_answered_on)),
                (_("Risposta ricevuta dalla compagnia il"), self._received(claim.offer_answered_on,
                                                                          claim.answer_received_on)),
                (_("Primo pagamento del"), when(claim.first_paid_on)),
            ]),
            (_("Indennizzo diretto (art. 149)"), [
                (_("Valutazione del portale"), "" if claim.direct_compensation is None else yes_no(claim.direct_compensation)),
                (_("Motivo"), claim.direct_compensation_reason),
                (_("Valutazione WinCar"), claim.wincar_assessment),
            ]),
            (_("Note"), [(_("Note"), claim.notes)]),
        ]

    def _money_rows(self, claim) -> list:
        """The insurer's last offer and what it paid, against the amount claimed (one query)."""
        row = money.with_totals(Claim.select(Claim.id).where(Claim.id == claim.id)).dicts().get()
        offer, paid = money.as_money(row["last_offer"]), money.as_money(row["reimbursed"])
        rows = [(_("Ultima offerta"), euro(offer) if offer is not None else ""),
                (_("Rimborsato"), euro(paid) if paid is not None else "")]
        if claim.claimed_amount is not None:
            rows.append((_("Da recuperare"), euro(money.outstanding(claim.claimed_amount, paid))))
        return rows

    @staticmethod
    def _received(sent_on, received_on) -> str:
        """The day of receipt, or "in attesa di ricevuta" for something sent whose receipt is not known."""
        if received_on:
            return when(received_on)
        return _("in attesa di ricevuta") if sent_on else ""

    def _outcome_text(self, claim) -> str:
        """Why the file ended: the reason in words, and its note."""
        reason = OUTCOME_WORDS.get(claim.outcome_reason, claim.outcome_reason or "")
        return " — ".join(part for part in (str(reason), claim.outcome_note or "") if part)

    def _duplicates_text(self, claim) -> str:
        """Numbers the user may open; others (another centre's files) only counted."""
        mine, others = duplicates.numbers_for(current_user._get_current_object(), claim)
        text = ", ".join(mine)
        if others:
            text += ("; " if text else "") + ngettext("%(num)d pratica di un altro centro",
                                                       "%(num)d pratiche di altri centri", others)
        return text

    def claim_deadlines(self, claim):
        """The "Scadenze" card: every term that applies, and the queue limit of the current state."""
        limit = QueueLimit.get_or_none(QueueLimit.status == claim.status)
        today = clock.today()
        rows = [SimpleNamespace(kind=d.kind, label=d.label, due=d.due, days_left=d.days_left(today), basis=d.basis,
                                level=d.level(today), level_label=next_due.LEVEL_LABELS.get(d.level(today), ""),
                                badge=next_due.LEVEL_BADGES.get(d.level(today), "light"))
                for d in next_due.all_deadlines(claim, limit)]
        return SimpleNamespace(rows=rows, limit=limit, interruptions=list(
            claim.interruptions.order_by(PrescriptionInterruption.on_date.desc())),
            suspensions=list(claim.suspensions.order_by(TermSuspension.start_on.desc())))

    def claim_missing(self, claim):
        return [checklist.describe(code) for code in checklist.recorded_missing(claim)]

    def claim_attachments(self, claim):
        return list(claim.attachments.order_by(Attachment.kind, Attachment.version.desc()))

    def previewable(self, attachment) -> bool:
        return previewable(attachment.content_type)

    def claim_history(self, claim):
        return list(claim.history.order_by(claim.history.model.at.desc(), claim.history.model.id.desc()))

    def claim_payments(self, claim):
        return list(claim.payments.order_by(claim.payments.model.on_date.desc()))

    # ---- workflow buttons ----------------------------------------------------
    def claim_actions(self, claim, failed=None):
        """The events the current user may apply now, each with its form fields.

        `failed` (a FailedAction) puts back in its event's form what was posted, with the errors.
        """
        user = current_user._get_current_object()
        actions = [(t, fields_for(t.event, claim)) for t in engine.available(claim, user)]
        if failed:
            for t, fields in actions:
                if t.event == failed.event:
                    failed.fill(fields)
        return actions

    @expose("/act/<id:claim_id>/<event>", methods=["POST"])
    def act(self, claim_id: int, event: str):
        claim = self.get_one(claim_id)
        user = current_user._get_current_object()
        details = self.get_url(".details_view", id=claim.id)
        if event not in TRANSITIONS:
            abort(404)
        try:
            saved = engine.apply(event, claim, user, version=request.form.get("version", claim.version),
                                 **read_form(event, claim, request.form))
        except (InvalidData, Conflict) as exc:
            return self._failed_action(event, exc)
        except WorkflowError as exc:
            flash(str(exc.message), "error")
            return redirect(details)
        flash(_("Pratica %(number)s: %(action)s eseguita. Stato: %(status)s.", number=saved.number,
                action=TRANSITIONS[event].label, status=saved.status_label), "success")
        if event == "record_payment" and engine.payment_warning(saved):
            flash(engine.payment_warning(saved), "warning")
        return redirect(details)

    def _failed_action(self, event: str, exc):
        """The claim page again, the failed action's form open with what was typed and each error by its field.

        The claim is read anew, so after a Conflict the page shows the other user's change
        and the form carries its version: confirming again applies to what is now shown.
        """
        claim = self.get_one(request.view_args["claim_id"])
        if not engine.can(event, claim, current_user._get_current_object()):  # no longer possible: no form to show
            flash(str(exc.message), "error")
            return redirect(self.get_url(".details_view", id=claim.id))
        errors = getattr(exc, "errors", None) or [(None, exc.message)]
        failed = FailedAction(event, request.form, errors, on_top=[str(exc.message)] if isinstance(exc, Conflict) else [])
        log.info("claim %s: %s by %s refused: %s", claim.number, event, current_user.login,
                 "; ".join(f"{name}: {message}" for name, message in errors))
        page = self.render(self.details_template, model=claim, details_columns=self.get_details_columns(),
                           get_value=self.get_detail_value, return_url=self.get_url(".index_view"), failed=failed)
        return page, 409 if isinstance(exc, Conflict) else 422

    def _visible_file(self, attachment_id: int):
        user = current_user._get_current_object()
        attachment = access.visible_attachments(user).where(Attachment.id == attachment_id).first()
        if attachment is None:
            abort(404)
        path = storage_path(current_app.config["STORAGE_DIR"], attachment.stored_name)
        if not path.exists():
            log.error("attachment %s of claim %s missing on disk", attachment.id, attachment.claim_id)
            abort(404)
        return user, attachment, path

    @expose("/attachment/<id:attachment_id>")
    def download(self, attachment_id: int):
        user, attachment, path = self._visible_file(attachment_id)
        log.info("attachment %s of claim %s downloaded by %s", attachment.id, attachment.claim_id, user.login)
        return send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=download_name(attachment.original_name, attachment.content_type))

    @expose("/attachment/<id:attachment_id>/preview")
    def preview(self, attachment_id: int):
        """A PDF or an image opened in the browser: served inline only as the type its bytes
        have (with `nosniff`, as every response), so an upload never runs as a page."""
        user, attachment, path = self._visible_file(attachment_id)
        if not previewable(attachment.content_type) or stored_type(path) != attachment.content_type:
            return redirect(self.get_url(".download", attachment_id=attachment.id))
        log.info("attachment %s of claim %s opened by %s", attachment.id, attachment.claim_id, user.login)
        response = send_file(path, mimetype=attachment.content_type, as_attachment=False,
                             download_name=download_name(attachment.original_name, attachment.content_type))
        response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; " \
                                                      "object-src 'self'; frame-ancestors 'none'"
        return response
