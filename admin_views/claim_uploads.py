"""Documents uploaded from the claim page (workflows/uploads.py decides who and what).

The request's size is capped by `UPLOAD_MAX_BYTES` before anything reads its body
(`limit_upload_bodies`, run ahead of the CSRF check, which parses the form)."""
from __future__ import annotations

import logging

from flask import current_app, flash, redirect, request
from flask_admin import expose
from flask_babel import ngettext
from flask_login import current_user

from workflows import uploads
from workflows.errors import InvalidData, WorkflowError

log = logging.getLogger("gessin.admin")


def limit_upload_bodies() -> None:
    """Before the form is parsed: an upload larger than the setting is refused (413). The
    claims grid and every queue have the route (`<view>.upload`)."""
    if request.endpoint and request.endpoint.endswith(".upload"):
        request.max_content_length = current_app.config["UPLOAD_MAX_BYTES"]


class ClaimUploadsMixin:
    def may_upload(self, claim) -> bool:
        return uploads.may_upload(claim, current_user._get_current_object())

    def upload_kinds(self, claim) -> list[tuple[str, str]]:
        return uploads.kinds_for(claim, current_user._get_current_object())

    @expose("/upload/<id:claim_id>", methods=["POST"])
    def upload(self, claim_id: int):
        claim = self.get_one(claim_id)
        details = self.get_url(".details_view", id=claim.id) + "#attachments"
        files = [uploads.Upload(f.filename or "", f.read()) for f in request.files.getlist("files")]
        try:
            stored = uploads.upload(claim, current_user._get_current_object(), request.form.get("kind", ""), files,
                                    storage_dir=current_app.config["STORAGE_DIR"],
                                    max_file_bytes=current_app.config["INTAKE_MAX_FILE_BYTES"])
        except InvalidData as exc:
            for _field, message in exc.errors:
                flash(str(message), "error")
            return redirect(details)
        except WorkflowError as exc:
            flash(str(exc.message), "error")
            return redirect(details)
        flash(ngettext("%(num)d documento caricato sulla pratica %(number)s.",
                       "%(num)d documenti caricati sulla pratica %(number)s.", len(stored), number=claim.number),
              "success")
        return redirect(details)
