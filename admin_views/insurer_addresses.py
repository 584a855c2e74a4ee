"""Anagrafiche > Indirizzi uffici sinistri: the claims-office addresses the call centre approved
for an insurer, besides the registry's own PEC and e-mail (workflows/insurer_addresses.py).
A claim is sent only to these. Call centre only: seeing, approving and removing them."""
from __future__ import annotations

import logging

import peewee as pw
from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models import InsurerAddress, Role
from workflows import insurer_addresses
from workflows.errors import NotAllowed

from .base import GessinModelView
from .formatters import column, when

log = logging.getLogger("gessin.admin")


class InsurerAddressView(GessinModelView):
    roles = create_roles = delete_roles = (Role.ADMIN,)
    edit_roles = ()  # an approval is not rewritten: removed, and another made
    list_select_related = (InsurerAddress.insurer, InsurerAddress.approved_by)
    column_list = ("insurer", "address", "kind", "note", "approved_by", "approved_at")
    column_labels = {"insurer": _l("Compagnia"), "address": _l("Indirizzo"), "kind": _l("Tipo"), "note": _l("Nota"),
                     "approved_by": _l("Approvato da"), "approved_at": _l("Approvato il")}
    column_searchable_list = ("address",)
    column_sortable_list = ("address", "approved_at")
    column_default_sort = "address"
    column_formatters = {"approved_at": column(when),
                         "kind": lambda v, c, m, n: dict(InsurerAddress.KINDS).get(m.kind, m.kind)}
    form_columns = ("insurer", "address", "kind", "note")
    form_args = {"kind": {"choices": [(code, label) for code, label in InsurerAddress.KINDS]}}

    def scoped_query(self, user, *fields):
        visible = "1 = 1" if insurer_addresses.may_manage(user) else "1 = 0"
        return InsurerAddress.select(*fields).where(pw.SQL(visible))

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        try:
            insurer_addresses.stamp(model, current_user._get_current_object())
        except NotAllowed:
            abort(403)
        log.info("claims-office address %s (%s) approved for insurer %s by %s", model.address, model.kind,
                 model.insurer_id, current_user.login)

    def on_model_delete(self, model):
        if not insurer_addresses.may_manage(current_user._get_current_object()):
            abort(403)
        log.info("claims-office address %s of insurer %s removed by %s", model.address, model.insurer_id,
                 current_user.login)
