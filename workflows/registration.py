"""A body shop's registration: request, e-mail confirmation, approval or refusal.

1. `submit`: the public form's data, checked (python-stdnum for partita IVA and codice
   fiscale), limited per address and per VAT number, stored as an unconfirmed request;
   a signed link is e-mailed to the address given.
2. `confirm`: the link, once, within its time; only now does the request reach the
   call centre and the chosen ASP centre ("Richieste di registrazione").
3. `approve` (the call centre, or the chosen centre's manager): the repairer, its link
   to the centre, a portal login without a password, and WinCar credentials; one
   e-mail carries the WinCar UserID and password and the link to set the portal
   password. `reject`: with a reason, e-mailed.
"""
from __future__ import annotations

import datetime as dt
import logging

import peewee as pw
from flask_babel import lazy_gettext as _l

from models import (
    AspCentre,
    InvalidValue,
    PrivacyNotice,
    RegistrationRequest,
    Repairer,
    RepairerCentre,
    Role,
    User,
    db,
    parse_id,
    utcnow,
)
from models import validators

from . import accounts, credentials, links, notify
from .errors import FieldErrors, InvalidData, NotAllowed, WorkflowError

log = logging.getLogger("gessin.registration")

# Requests accepted within WINDOW from one address, and for one VAT number.
PER_ADDRESS = 5
PER_VAT_NUMBER = 3
WINDOW = dt.timedelta(hours=24)

FIELDS = ("name", "vat_number", "fiscal_code", "address", "email", "pec", "phone", "contact_person")
REQUIRED = {
    "name": _l("Indica la ragione sociale."),
    "vat_number": _l("Indica la partita IVA."),
    "fiscal_code": _l("Indica il codice fiscale."),
    "address": _l("Indica l'indirizzo."),
    "email": _l("Indica l'indirizzo e-mail."),
    "phone": _l("Indica un numero di telefono."),
    "contact_person": _l("Indica il nome del referente."),
}
ALREADY_REGISTERED = _l("Questa partita IVA è già registrata sul portale. Se è della vostra azienda, "
                        "contattate il call center RESTART.")


class TooManyRequests(WorkflowError):
    """Over the limit of requests per address or per VAT number."""


def current_notice() -> PrivacyNotice | None:
    return PrivacyNotice.select().order_by(PrivacyNotice.version.desc()).first()


def next_notice_version() -> int:
    return (PrivacyNotice.select(pw.fn.MAX(PrivacyNotice.version)).scalar() or 0) + 1


def active_centres() -> pw.ModelSelect:
    return AspCentre.select().where(AspCentre.active == True).order_by(AspCentre.name)  # noqa: E712


def registered(vat_number: str) -> bool:
    """A repairer, or a confirmed request waiting for a decision, has this VAT number."""
    return (Repairer.select().where(Repairer.vat_number == vat_number).exists()
            or RegistrationRequest.select().where(RegistrationRequest.vat_number == vat_number,
                                                  RegistrationRequest.status == RegistrationRequest.PENDING).exists())


def _check(data: dict, centre_id, notice_version, accepted: bool) -> tuple[dict, AspCentre | None, PrivacyNotice]:
    errors, clean = FieldErrors(), {}
    for name in FIELDS:
        value = (data.get(name) or "").strip()
        if not value and name in REQUIRED:
            errors.add(name, REQUIRED[name])
        clean[name] = value or None
    checks = {"vat_number": validators.vat_number, "fiscal_code": validators.fiscal_code,
              "email": validators.email, "pec": validators.email}
    for name, check in checks.items():
        if clean[name] and not errors.has(name):
            try:
                clean[name] = check(clean[name], name)
            except InvalidValue as exc:
                errors.add(name, exc.message)
    if clean["vat_number"] and not errors.has("vat_number") and registered(clean["vat_number"]):
        errors.add("vat_number", ALREADY_REGISTERED)
    centre_id = parse_id(centre_id)  # None past the id column's range, too
    centre = active_centres().where(AspCentre.id == centre_id).first() if centre_id is not None else None
    if centre is None:
        errors.add("asp_centre", _l("Scegli il Centro ASP di riferimento dall'elenco."))
    notice = current_notice()
    if notice is None:
        errors.add(None, _l("Le registrazioni non sono ancora aperte: manca l'informativa privacy."))
    elif not accepted:
        errors.add("privacy", _l("Per registrarti devi leggere e accettare l'informativa privacy."))
    elif str(notice_version) != str(notice.version):
        errors.add("privacy", _l("L'informativa privacy è stata aggiornata mentre compilavi il modulo: "
                                 "leggila e accettala di nuovo."))
    errors.raise_if_any()
    return clean, centre, notice


def _within_limits(vat_number: str, address: str | None, now: dt.datetime) -> None:
    recent = RegistrationRequest.select().where(RegistrationRequest.created_at >= now - WINDOW)
    if address and recent.where(RegistrationRequest.remote_addr == address).count() >= PER_ADDRESS:
        raise TooManyRequests(_l("Da questo indirizzo sono già arrivate molte richieste di registrazione: "
                                 "riprova domani o contatta il call center RESTART."))
    if recent.where(RegistrationRequest.vat_number == vat_number).count() >= PER_VAT_NUMBER:
        raise TooManyRequests(_l("Per questa partita IVA sono già arrivate molte richieste di registrazione: "
                                 "controlla la tua casella e-mail, oppure riprova domani."))


def submit(data: dict, centre_id, notice_version, accepted: bool, address: str | None,
           now: dt.datetime | None = None) -> RegistrationRequest:
    """Store an unconfirmed request and e-mail its confirmation link; InvalidData or TooManyRequests."""
    now = now or utcnow()
    clean, centre, notice = _check(data, centre_id, notice_version, accepted)
    _within_limits(clean["vat_number"], address, now)
    with db.atomic():
        request = RegistrationRequest.create(**clean, asp_centre=centre, privacy_notice=notice,
                                             privacy_accepted_at=now, remote_addr=address, created_at=now)
        token = links.make("confirm_registration", {"r": request.id, "e": request.email})
        notify.queue(None, [request.email], "registration_confirm", request=request, centre=centre,
                     link=notify.absolute_url(f"/registrazione/conferma/{token}"),
                     hours=links.MAX_AGE["confirm_registration"] // 3600)
    notify.flush()
    log.info("registration request %s for VAT %s from %s", request.id, request.vat_number, address)
    return request


def confirm(token: str, now: dt.datetime | None = None) -> RegistrationRequest:
    """The e-mailed link: the request now waits for the call centre and its ASP centre."""
    payload = links.read("confirm_registration", token)
    request = RegistrationRequest.get_or_none(RegistrationRequest.id == payload.get("r")) \
        if isinstance(payload.get("r"), int) else None
    if request is None or request.email != payload.get("e"):
        raise links.LinkRefused("invalid")
    with db.atomic():
        changed = RegistrationRequest.update(status=RegistrationRequest.PENDING, email_confirmed_at=now or utcnow()) \
            .where(RegistrationRequest.id == request.id,
                   RegistrationRequest.status == RegistrationRequest.UNCONFIRMED).execute()
        if not changed:
            raise links.LinkRefused("used")
        request = RegistrationRequest.get_by_id(request.id)
        notify.queue(None, [request.asp_centre.email], "registration_received", request=request,
                     link=notify.absolute_url(f"/admin/registration/decide/{request.id}"))
    notify.flush()
    log.info("registration request %s confirmed its e-mail", request.id)
    return request


def visible_requests(user: User) -> pw.ModelSelect:
    """The call centre sees every request; an ASP manager those that chose its centre; neither
    before the body shop has confirmed its e-mail address."""
    query = RegistrationRequest.select().where(RegistrationRequest.status != RegistrationRequest.UNCONFIRMED)
    if user is not None and user.is_active and user.role == Role.ADMIN:
        return query
    if user is not None and user.is_active and user.role == Role.ASP_MANAGER:
        return query.where(RegistrationRequest.asp_centre == user.asp_centre_id)
    return query.where(pw.SQL("1 = 0"))


def _pending(request_id: int, user: User) -> RegistrationRequest:
    request = visible_requests(user).where(RegistrationRequest.id == request_id).first()
    if request is None:
        raise NotAllowed(_l("Richiesta non trovata."))
    if request.status != RegistrationRequest.PENDING:
        raise NotAllowed(_l("Questa richiesta non è in attesa di decisione (stato: %(status)s).",
                            status=dict(RegistrationRequest.STATUSES)[request.status]))
    return request


def _decide(request: RegistrationRequest, user: User, status: str, **values) -> None:
    changed = RegistrationRequest.update(status=status, decided_at=utcnow(), decided_by=user, **values).where(
        RegistrationRequest.id == request.id, RegistrationRequest.status == RegistrationRequest.PENDING).execute()
    if not changed:
        raise NotAllowed(_l("Qualcun altro ha deciso questa richiesta nel frattempo."))


def _portal_login(vat_number: str) -> str:
    login, n = vat_number, 1
    while User.select().where(User.login == login).exists():
        n += 1
        login = f"{vat_number}-{n}"
    return login


def approve(request_id: int, user: User) -> tuple[Repairer, User]:
    """Create the repairer, its link to the centre, its portal login and WinCar credentials; one e-mail."""
    request = _pending(request_id, user)
    if Repairer.select().where(Repairer.vat_number == request.vat_number).exists():
        raise InvalidData(ALREADY_REGISTERED, "vat_number")
    with db.atomic():
        _decide(request, user, RegistrationRequest.APPROVED)
        repairer = Repairer.create(name=request.name, vat_number=request.vat_number, fiscal_code=request.fiscal_code,
                                   address=request.address, email=request.email, pec=request.pec,
                                   phone=request.phone)
        RegistrationRequest.update(repairer=repairer).where(RegistrationRequest.id == request.id).execute()
        RepairerCentre.create(repairer=repairer, asp_centre=request.asp_centre_id)
        login = User(login=_portal_login(repairer.vat_number), full_name=request.contact_person, email=request.email,
                     role=Role.REPAIRER, repairer=repairer, password_hash=accounts.unusable_password_hash())
        login.save()
        user_id, password = credentials.assign(repairer)
        notify.queue(None, [repairer.email], "registration_approved", repairer=repairer, centre=request.asp_centre,
                     login=login.login, user_id=user_id, password=password,
                     link=accounts.password_link(login), days=links.MAX_AGE["set_password"] // 86400)
    notify.flush()
    log.info("registration request %s approved by %s: repairer %s, UserID %s", request.id, user.login,
             repairer.vat_number, user_id)
    return repairer, login


def reject(request_id: int, user: User, reason: str) -> RegistrationRequest:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidData(_l("Scrivi il motivo del rifiuto: sarà inviato alla carrozzeria."), "reason")
    request = _pending(request_id, user)
    with db.atomic():
        _decide(request, user, RegistrationRequest.REJECTED, reject_reason=reason)
        notify.queue(None, [request.email], "registration_rejected", request=request, reason=reason)
    notify.flush()
    log.info("registration request %s rejected by %s", request.id, user.login)
    return RegistrationRequest.get_by_id(request.id)
