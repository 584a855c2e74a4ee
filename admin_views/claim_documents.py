"""The claim page's documents for the insurer: the claim letter (preview, save as attachment),
the dossier (build in the worker, progress, download) and its print for a raccomandata.

Thin: the rules are `workflows.claim_letter` and `workflows.dossier`. Every route reads the
claim or the dossier through the user's scope first: someone who cannot see the claim gets
404, as if neither existed; a user who sees it but does not prepare its documents (the body
shop) gets 403.
"""
from __future__ import annotations

import io
import logging

from flask import abort, current_app, flash, jsonify, redirect, request, send_file, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_login import current_user

from models import ClaimDossier, DossierState, PrescriptionInterruption, db, parse_id
from workflows import claim_letter, dossier
from workflows.attachments import storage_path
from workflows.errors import WorkflowError

log = logging.getLogger("gessin.admin")

# As the attachment preview's: the PDF is shown, nothing of it runs, no page may frame it.
INLINE_POLICY = ("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; "
                 "frame-ancestors 'none'")


class ClaimDocumentsMixin:
    # ---- what the claim page shows --------------------------------------------------
    def may_prepare(self, claim) -> bool:
        return claim_letter.may_prepare(current_user._get_current_object(), claim)

    def letter_draft(self, claim):
        """The letter as it would be now: its recipients, how it travels by default, and what
        the claim lacks or falls short of, listed above the form."""
        return claim_letter.compose(claim)

    def letter_means(self):
        return PrescriptionInterruption.MEANS  # the same two ways, with their labels

    def print_refusal(self, row) -> str | None:
        return dossier.print_refusal(row)

    def dossier_of(self, claim):
        return dossier.current(claim)

    def dossier_choices(self, claim):
        """Every document of the claim, in binding order, with whether it is chosen by default."""
        chosen = {d.id for d in dossier.default_selection(claim)}
        return [(doc, doc.id in chosen) for doc in sorted(claim.attachments, key=dossier.order_key)]

    def dossier_status(self, row) -> dict:
        return dossier.status(row)

    # ---- the claim letter -------------------------------------------------------------
    def _preparable_claim(self, claim_id):
        claim = self.get_one(claim_id)  # 404 outside the user's scope
        if not self.may_prepare(claim):
            abort(403)
        return claim

    @expose("/letter/<id:claim_id>/preview", methods=["POST"])
    def letter_preview(self, claim_id: int):
        claim = self._preparable_claim(claim_id)
        data = claim_letter.letter_pdf(claim, request.form.get("extra", ""), means=request.form.get("means"))
        log.info("claim %s: claim letter previewed by %s", claim.number, current_user.login)
        response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=False,
                             download_name=claim_letter.file_name(claim))
        response.headers["Content-Security-Policy"] = INLINE_POLICY
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/letter/<id:claim_id>/save", methods=["POST"])
    def letter_save(self, claim_id: int):
        claim = self._preparable_claim(claim_id)
        try:
            stored = claim_letter.save(claim, current_user._get_current_object(), request.form.get("extra", ""),
                                       current_app.config["STORAGE_DIR"], means=request.form.get("means"))
        except WorkflowError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Lettera di richiesta danni salvata tra gli allegati (versione %(version)d).",
                    version=stored.version), "success")
        return redirect(self.get_url(".details_view", id=claim.id) + "#letter")

    # ---- the dossier ------------------------------------------------------------------
    @expose("/dossier/<id:claim_id>/build", methods=["POST"])
    def dossier_build(self, claim_id: int):
        from tasks.dossier import build_dossier
        claim = self._preparable_claim(claim_id)
        ids = request.form.getlist("attachment") if request.form.get("choose") else None
        try:
            with db.atomic():
                row, queue = dossier.request(claim, current_user._get_current_object(), ids)
        except WorkflowError as exc:
            flash(str(exc.message), "error")
            return redirect(self.get_url(".details_view", id=claim.id) + "#dossier")
        if queue:
            build_dossier(row.id)  # after the commit: the worker reads the row
            flash(_("Fascicolo in preparazione: la pagina mostra l'avanzamento."), "info")
        else:
            flash(_("Il fascicolo è già aggiornato con questi documenti: non serve rifarlo."), "info")
        return redirect(self.get_url(".details_view", id=claim.id) + "#dossier")

    def _visible_dossier(self, dossier_id):
        pk = parse_id(dossier_id)
        row = None if pk is None else dossier.visible_dossiers(current_user._get_current_object()).where(
            ClaimDossier.id == pk).first()
        if row is None:
            abort(404)
        if not self.may_prepare(row.claim):
            abort(403)
        return row

    @expose("/dossier/<id:dossier_id>/status")
    def dossier_state(self, dossier_id: int):
        row = self._visible_dossier(dossier_id)
        body = dossier.status(row)
        if row.state == DossierState.READY:
            body["download"] = url_for(".dossier_download", dossier_id=row.id)
            if row.print_stored_name:
                body["print"] = url_for(".dossier_print", dossier_id=row.id)
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _dossier_file(self, dossier_id, which: str, name: str):
        row = self._visible_dossier(dossier_id)
        stored = getattr(row, which)
        if row.state != DossierState.READY or not stored:
            abort(404)
        path = storage_path(current_app.config["STORAGE_DIR"], stored)
        if not path.exists():
            log.error("dossier %s of claim %s missing on disk", row.id, row.claim_id)
            abort(404)
        log.info("dossier %s of claim %s (%s) downloaded by %s", row.id, row.claim_id, which, current_user.login)
        return send_file(path, mimetype="application/pdf", as_attachment=True,
                         download_name=f"{name}-{row.claim.number.replace('/', '-')}.pdf")

    @expose("/dossier/<id:dossier_id>/download")
    def dossier_download(self, dossier_id: int):
        return self._dossier_file(dossier_id, "stored_name", "fascicolo")

    @expose("/dossier/<id:dossier_id>/print")
    def dossier_print(self, dossier_id: int):
        """Refused, with where to add it, while the claims office's postal address is missing:
        a raccomandata without it reaches nobody."""
        row = self._visible_dossier(dossier_id)
        refusal = dossier.print_refusal(row) if row.state == DossierState.READY else None
        if refusal:
            flash(refusal, "error")
            return redirect(self.get_url(".details_view", id=row.claim_id) + "#dossier")
        return self._dossier_file(dossier_id, "print_stored_name", "raccomandata")

    def may_record_posting(self, claim) -> bool:
        """The day a raccomandata left is recorded with the interruption of prescription."""
        from workflows import engine
        return engine.can("interrupt_prescription", claim, current_user._get_current_object())
