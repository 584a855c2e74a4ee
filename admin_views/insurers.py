"""The call centre's grid of insurers' names WinCar sent that the registry does not know,
the aliases it made, and the claims grid's filter on them. Call centre only."""
from __future__ import annotations

import logging

import peewee as pw
from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.contrib.peewee.filters import BasePeeweeFilter
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup

from models import Claim, InsuranceCompany, InsurerAlias, InvalidValue, Role
from models.claims import PROCEDURES
from workflows import insurers, who_pays
from workflows.errors import WorkflowError

from .base import GessinModelView
from .formatters import column, when

log = logging.getLogger("gessin.admin")


class UnmappedInsurerFilter(BasePeeweeFilter):
    """Claims grid: "Compagnia da abbinare", the claims with a name waiting for the call centre."""

    def __init__(self):
        super().__init__(Claim.vehicle_a_insurer_name, _l("Compagnia da abbinare"), options=[("1", _l("Sì"))])

    def apply(self, query, value):
        return query.where(insurers.unmapped_clause())

    def operation(self):
        return _l("è")


class UnknownInsurerView(BaseView):
    """Anagrafiche > Compagnie da abbinare: each unknown name, its claims, and the two ways out."""

    def is_accessible(self):
        return current_user.is_authenticated and insurers.may_manage(current_user._get_current_object())

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    @expose("/")
    def index(self):
        user = current_user._get_current_object()
        registry = InsuranceCompany.select().where(InsuranceCompany.active == True).order_by(  # noqa: E712
            InsuranceCompany.name)
        return self.render("admin/unknown_insurers.html", names=insurers.unknown_names(user),
                           registry=list(registry), claims_url=self._claims_url())

    def _claims_url(self) -> str:
        """The claims grid filtered on "Compagnia da abbinare"."""
        claims = self.admin.views_by_endpoint["claim"]
        index = next(i for i, flt in enumerate(claims.column_filters) if isinstance(flt, UnmappedInsurerFilter))
        return url_for(f"{claims.endpoint}.index_view", **{f"flt0_{index}": "1"})

    @expose("/map", methods=["POST"])
    def map(self):
        try:
            insurer_id = int(request.form.get("insurer", ""))
        except ValueError:
            flash(_("Scegli una compagnia del registro."), "error")
            return redirect(url_for(".index"))
        return self._apply(lambda user, name: insurers.map_name(name, insurer_id, user))

    @expose("/create", methods=["POST"])
    def create(self):
        form = request.form
        return self._apply(lambda user, name: insurers.create_from_name(
            name, form.get("insurer_name", ""), user, form.get("claims_email"), form.get("claims_pec"),
            form.get("claims_address")))

    def _apply(self, step):
        user = current_user._get_current_object()
        name = request.form.get("name", "")
        try:
            done = step(user, name)
        except (WorkflowError, InvalidValue) as exc:
            flash(str(exc.message), "error")
            return redirect(url_for(".index"))
        text = ngettext("«%(name)s» abbinata a %(insurer)s: %(num)d pratica aggiornata.",
                        "«%(name)s» abbinata a %(insurer)s: %(num)d pratiche aggiornate.",
                        done.claims, name=" ".join(name.split()), insurer=done.insurer.name)
        if done.created:
            text = _("Compagnia %(insurer)s aggiunta al registro.", insurer=done.insurer.name) + " " + text
        flash(text, "success")
        return redirect(url_for(".index"))


class InsurerAliasView(GessinModelView):
    """The aliases the call centre made; one removed stops matching later intakes (claims keep their insurer)."""

    roles = (Role.ADMIN,)
    edit_roles = create_roles = ()
    delete_roles = (Role.ADMIN,)
    list_select_related = (InsurerAlias.insurer, InsurerAlias.created_by)
    column_list = ("name", "insurer", "created_by", "created_at")
    column_labels = {"name": _l("Nome ricevuto"), "insurer": _l("Compagnia"), "created_by": _l("Abbinato da"),
                     "created_at": _l("Abbinato il"), "key": _l("Nome normalizzato")}
    column_searchable_list = ("name", "key")
    column_sortable_list = ("name", "created_at")
    column_default_sort = "name"
    column_formatters = {"created_at": column(when)}

    def scoped_query(self, user):
        return InsurerAlias.select().where(pw.SQL("1 = 1" if insurers.may_manage(user) else "1 = 0"))

    def on_model_delete(self, model):
        log.info("insurer alias %r (%s) removed by %s", model.name, model.insurer_id, current_user.login)


def insurer_as_sent(claim: Claim, side: str):
    """A vehicle's insurer on the claim page: the registry's, or the name as sent flagged "da abbinare"."""
    insurer, sent = getattr(claim, f"vehicle_{side}_insurer"), getattr(claim, f"vehicle_{side}_insurer_name")
    if insurer is not None:
        if sent and sent.strip().lower() != insurer.name.lower():
            note = _("(inviata come «%(name)s»)", name=sent)
            return Markup('{} <span class="small text-muted">{}</span>').format(insurer.name, note)
        return insurer.name
    if sent:
        flag = _("da abbinare")
        return Markup('{} <span class="badge badge-warning insurer-unmapped">{}</span>').format(sent, flag)
    return ""


def debtor_as_sent(claim: Claim):
    """The debtor insurer (`who_pays.debtor`, as the letter reads it) and why it pays: chosen by
    hand, or the vehicle the procedure names; while the registry does not know that vehicle's
    insurer, the name sent, flagged."""
    to = who_pays.debtor(claim)
    if to.insurer is None and not to.unmapped:
        return ""
    name = to.name if to.insurer is not None else Markup(
        '{} <span class="badge badge-warning insurer-unmapped">{}</span>').format(to.name, _("da abbinare"))
    why = _("indicata a mano") if to.by_hand else _("assicuratrice del veicolo %(side)s, %(procedure)s",
                                                    side=to.side.upper(), procedure=dict(PROCEDURES)[to.procedure])
    return Markup('{} <span class="small text-muted debtor-basis">— {}</span>').format(name, why)
