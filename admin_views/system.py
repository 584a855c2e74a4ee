"""Users, the e-mail outbox, the history log, queue limits and the WinCar intake log."""
from __future__ import annotations

import logging

from flask import flash, g
from flask_admin.actions import action
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_user
from markupsafe import Markup
from wtforms import PasswordField
from wtforms.validators import Optional

from models import (
    ClaimStatus,
    IntakeEvent,
    InvalidValue,
    OutboundEmail,
    OutboundMessage,
    QueueLimit,
    Role,
    StatusChange,
    User,
)
from workflows import access, accounts, notify, party_edits
from workflows.transitions import event_label

from .base import GessinModelView
from .formatters import column, status_badge, when

log = logging.getLogger("gessin.admin")


class ReadOnlyView(GessinModelView):
    edit_roles = create_roles = delete_roles = ()
    can_view_details = True


class UserView(GessinModelView):
    changes_choices = True  # a POST here forgets all that is kept, for everyone (admin_views/kept.py)
    roles = (Role.ADMIN,)
    column_list = ("login", "full_name", "role", "asp_centre", "lawyer", "repairer", "active", "language", "last_login_at")
    column_labels = {"login": _l("Nome utente"), "full_name": _l("Nome e cognome"), "role": _l("Ruolo"),
                     "asp_centre": _l("Centro ASP"), "lawyer": _l("Legale"), "repairer": _l("Carrozzeria"),
                     "active": _l("Attivo"), "language": _l("Lingua"), "last_login_at": _l("Ultimo accesso"),
                     "new_password": _l("Nuova password")}
    column_searchable_list = ("login", "full_name", "email")
    column_sortable_list = ("login", "role", "last_login_at")
    column_default_sort = "login"
    column_filters = ("role", "active")
    column_exclude_list = column_details_exclude_list = column_export_exclude_list = ("password_hash", "session_token")
    column_formatters = {"role": lambda v, c, m, n: Role.LABELS.get(m.role, m.role),
                         "last_login_at": column(when)}
    list_select_related = (User.asp_centre, User.lawyer, User.repairer)
    form_excluded_columns = ("password_hash", "created_at", "last_login_at", "session_token")
    form_extra_fields = {"new_password": PasswordField(
        _l("Nuova password"), validators=[Optional()],
        description=_l("Facoltativa: senza password, il nuovo utente riceve per e-mail un invito a sceglierla."))}
    delete_roles = ()

    def scoped_query(self, user):
        return access.visible_users(user)

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        g.gessin_invite = False
        if form.new_password.data:
            model.set_password(form.new_password.data)
        elif is_created:  # no password typed: the new user chooses its own, from an e-mailed invitation
            if not model.email:
                raise InvalidValue("email", _l("Indica l'e-mail: l'invito a scegliere la password parte a questo "
                                               "indirizzo."))
            model.password_hash = accounts.unusable_password_hash()
            g.gessin_invite = True
        if model.id == current_user.id and (not model.active or model.role != Role.ADMIN):
            raise InvalidValue("role", _l("Non puoi togliere a te stesso l'accesso da amministratore."))
        if not model.active:
            model.renew_session_token()  # a deactivated user's open sessions end (a new password does too)

    def after_model_change(self, form, model, is_created):
        log.info("user %s %s by %s", model.login, "created" if is_created else "changed", current_user.login)
        if g.get("gessin_invite"):
            _invite(model)
            flash(_("Invito inviato a %(email)s: l'utente sceglierà la sua password dal collegamento ricevuto.",
                    email=model.email), "success")
        if not is_created and (form.new_password.data or not model.active):
            log.info("sessions of user %s ended by %s", model.login, current_user.login)
        if model.id == current_user.id and model.session_token != current_user.session_token:
            model.open_device()
            login_user(model)  # an admin who changed their own password stays logged in here

    @action("invite", _l("Invia invito per la password"),
            _l("Inviare agli utenti scelti un collegamento per scegliere la password?"))
    def action_invite(self, ids):
        sent = 0
        for user in self.get_query().where(User.id.in_([int(i) for i in ids])):
            if user.email and user.active:
                _invite(user)
                sent += 1
        flash(ngettext("%(num)d invito inviato.", "%(num)d inviti inviati.", sent), "success")


def _invite(user: User) -> None:
    """The invitation, in Italian whoever sends it."""
    with force_locale("it"):
        role = str(Role.LABELS.get(user.role, user.role))
    party = user.asp_centre or user.lawyer or user.repairer
    accounts.invite(user, str(current_user), role, str(party) if party else None)


def email_status(view, context, model, name) -> str:
    """The row's state; a message that may have reached its recipient twice says so."""
    label = str(dict(model.STATUSES).get(model.status, model.status))
    return f"{label} · {_l('possibile duplicato')}" if model.possible_duplicate else label


class OutboundEmailView(ReadOnlyView):
    roles = (Role.ADMIN, Role.ASP_MANAGER)
    list_select_related = (OutboundEmail.claim,)
    column_list = ("created_at", "claim", "recipients", "subject", "status", "attempts", "last_error",
                   "next_attempt_at", "sent_at")
    # The subject and the text are the message's, read with the row (access.visible_emails joins it).
    column_details_list = ("created_at", "claim", "recipients", "subject", "body", "status", "attempts",
                           "last_error", "sent_at", "next_attempt_at", "locked_by", "locked_until", "sending_at",
                           "smtp_reply", "possible_duplicate")
    column_labels = {"created_at": _l("Creata il"), "claim": _l("Pratica"), "recipients": _l("Destinatari"),
                     "subject": _l("Oggetto"), "status": _l("Stato"), "attempts": _l("Tentativi"),
                     "last_error": _l("Ultimo errore"), "sent_at": _l("Inviata il"), "body": _l("Testo"),
                     "next_attempt_at": _l("Prossimo tentativo"), "locked_by": _l("Processo di invio"),
                     "locked_until": _l("In invio fino a"), "sending_at": _l("DATA inviato il"),
                     "smtp_reply": _l("Risposta del server SMTP"), "possible_duplicate": _l("Possibile duplicato")}
    column_sortable_list = ("created_at", "status", "sent_at")
    column_default_sort = ("created_at", True)
    column_searchable_list = ("recipients", OutboundMessage.subject)
    column_filters = ("status", "possible_duplicate")
    column_formatters = {"created_at": column(when), "sent_at": column(when), "next_attempt_at": column(when),
                         "sending_at": column(when), "locked_until": column(when), "status": email_status,
                         "body": lambda v, c, m, n: Markup('<div class="email-body">{}</div>').format(
                             notify.without_secrets(m.body))}
    column_formatters_export = {"body": lambda v, c, m, n: notify.without_secrets(m.body)}

    def scoped_query(self, user):
        return access.visible_emails(user)

    def is_action_allowed(self, name):
        if name == "resend":
            return current_user.is_authenticated and current_user.role == Role.ADMIN
        return super().is_action_allowed(name)

    @action("resend", _l("Invia di nuovo"), _l("Rimettere in coda di invio i messaggi scelti?"))
    def action_resend(self, ids):
        from tasks.mail import resend
        queued = resend([int(i) for i in ids])
        flash(ngettext("%(num)d messaggio rimesso in coda di invio.", "%(num)d messaggi rimessi in coda di invio.",
                       queued), "success")


class HistoryView(ReadOnlyView):
    list_select_related = (StatusChange.claim,)
    roles = (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER, Role.REPAIRER)
    column_list = ("at", "claim", "actor_label", "event", "from_status", "to_status", "note")
    column_labels = {"at": _l("Quando"), "claim": _l("Pratica"), "actor_label": _l("Chi"), "event": _l("Evento"),
                     "from_status": _l("Da"), "to_status": _l("A"), "note": _l("Nota")}
    column_sortable_list = ("at",)
    column_default_sort = ("at", True)
    column_formatters = {
        "at": column(when),
        "from_status": lambda v, c, m, n: status_badge(m.from_status) if m.from_status else "",
        "to_status": lambda v, c, m, n: status_badge(m.to_status),
        "claim": lambda v, c, m, n: m.claim.number,
        "event": lambda v, c, m, n: event_label(m.event),
    }
    column_formatters_export = {"claim": lambda v, c, m, n: m.claim.number,
                                "event": lambda v, c, m, n: event_label(m.event)}

    def scoped_query(self, user):
        return access.visible_history(user)


class QueueLimitView(GessinModelView):
    roles = (Role.ADMIN,)
    delete_roles = (Role.ADMIN,)
    column_list = ("status", "warning_days", "breach_days", "working_days")
    column_labels = {"status": _l("Stato"), "warning_days": _l("Preavviso dopo (giorni)"),
                     "breach_days": _l("Scadenza dopo (giorni)"), "working_days": _l("Giorni contati")}
    column_formatters = {"status": lambda v, c, m, n: status_badge(m.status),
                         "working_days": lambda v, c, m, n: _("lavorativi") if m.working_days else _("di calendario")}
    form_excluded_columns = ("created_at",)
    # Open states only: a closed file has no next deadline (the model refuses the others too).
    # `form_args`, not `form_choices`, which only Flask-Admin's SQLAlchemy forms read.
    form_args = {"status": {"choices": [(k, v) for k, v in ClaimStatus.CHOICES if k not in ClaimStatus.FINAL]},
                 "working_days": {"label": _l("Conta in giorni lavorativi"), "description": _l(
                     "Dal lunedì al venerdì, festività nazionali escluse; altrimenti giorni di calendario.")}}

    def scoped_query(self, user):
        return QueueLimit.select()

    # A limit changed, added or removed applies to every open claim of its state (and of the
    # state it had before, when the row now speaks of another one): recomputed by the worker
    # once the save has committed (the grid saves in autocommit), never in the request.
    def update_model(self, form, model):
        g.gessin_limit_before = model.status
        return super().update_model(form, model)

    def after_model_change(self, form, model, is_created):
        self._recompute(None if is_created else g.pop("gessin_limit_before", None), model.status)

    def after_model_delete(self, model):
        self._recompute(model.status)

    def _recompute(self, *statuses):
        from tasks.reminders import recompute_after_limit
        statuses = tuple(dict.fromkeys(s for s in statuses if s))
        labels = ", ".join(str(ClaimStatus.LABELS.get(s, s)) for s in statuses)
        try:
            recompute_after_limit(*statuses)
        except Exception as exc:  # noqa: BLE001 - the limit is saved; the recompute can be run by hand
            log.error("queue limit of %s saved, recompute not queued (%s): run `flask recompute-deadlines`",
                      ", ".join(statuses), type(exc).__name__)
            flash(_("Limite salvato, ma il ricalcolo delle scadenze non è partito: riprova tra poco o avvisa "
                    "l'assistenza."), "error")
            return
        log.info("queue limit of %s changed by %s: recompute queued", ", ".join(statuses), current_user.login)
        flash(_("Le scadenze delle pratiche in stato %(states)s sono in ricalcolo: tra poco le vedrai aggiornate.",
                states=labels), "info")


class IntakeEventView(ReadOnlyView):
    roles = (Role.ADMIN,)
    list_select_related = (IntakeEvent.claim,)
    column_list = ("received_at", "wincar_user", "event", "wincar_ref", "http_status", "claim", "error", "duration_ms")
    column_labels = {"received_at": _l("Ricevuto il"), "wincar_user": _l("UserID"), "event": _l("Evento"),
                     "wincar_ref": _l("Rif. WinCar"), "http_status": _l("Esito HTTP"), "claim": _l("Pratica"),
                     "error": _l("Errore"), "duration_ms": _l("Durata (ms)")}
    column_default_sort = ("received_at", True)
    column_sortable_list = ("received_at", "http_status")
    column_filters = ("http_status", "wincar_user")
    column_formatters = {"received_at": column(when)}

    def scoped_query(self, user):
        return IntakeEvent.select()


class ContactChangeView(ReadOnlyView):
    """The audit trail of contact addresses ("Modifiche recapiti"), for the call centre."""

    roles = (Role.ADMIN,)
    column_list = ("at", "party_type", "party_name", "field", "old_value", "new_value", "actor_label")
    column_labels = {"at": _l("Quando"), "party_type": _l("Anagrafica"), "party_name": _l("Nome"),
                     "party_id": _l("Id anagrafica"), "field": _l("Campo"), "old_value": _l("Valore precedente"),
                     "new_value": _l("Nuovo valore"), "actor_label": _l("Chi"), "actor": _l("Utente")}
    column_default_sort = ("at", True)
    column_sortable_list = ("at", "party_type", "field")
    column_searchable_list = ("party_name", "old_value", "new_value")
    column_filters = ("party_type", "field")
    column_formatters = {"at": column(when),
                         "party_type": lambda v, c, m, n: dict(m.PARTY_TYPES).get(m.party_type, m.party_type)}

    def scoped_query(self, user):
        return party_edits.visible_changes(user)
