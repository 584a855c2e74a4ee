"""Who may change a party's record, which fields, and the audit of contact addresses.

The call centre changes every party. Otherwise a party changes only its own record:
an ASP manager its centre and its centre's own desk (not the VAT number, not whether
they are active), a lawyer user its own lawyer record, a repairer user the contact
fields of its own body shop. A lawyer or a repairer that serves several centres is
nobody's "own": no centre may rename, re-address or deactivate it, because every
other centre's claim e-mails would follow the change.

Every change of an address that receives e-mails (the contact fields below) is
written to `ContactChange` in the same transaction as the change, by
`record_contact_changes`, whichever path saved it; the old address is told.
"""
from __future__ import annotations

import logging

import peewee as pw
from flask_babel import lazy_gettext as _l

from models import (
    AspCentre,
    ContactChange,
    InsuranceCompany,
    Lawyer,
    LawyerCentre,
    Repairer,
    Role,
    User,
    db,
    utcnow,
)

from . import notify
from .errors import NotAllowed

log = logging.getLogger("gessin.workflows")

PARTY_TYPES = {AspCentre: "asp_centre", Repairer: "repairer", Lawyer: "lawyer", InsuranceCompany: "insurer"}

# The addresses claim e-mails and letters go to, and their names in an e-mail.
FIELD_WORDS = {"email": "E-mail", "pec": "PEC", "claims_email": "E-mail ufficio sinistri",
               "claims_pec": "PEC ufficio sinistri"}
CONTACT_FIELDS = {
    AspCentre: ("email", "pec"),
    Repairer: ("email", "pec"),
    Lawyer: ("email", "pec"),
    InsuranceCompany: ("claims_email", "claims_pec"),
}

# Never set through a party form: WinCar credentials are issued by `workflows.credentials`,
# a desk's centre by `ensure_own_desk`.
NEVER = {"id", "created_at", "wincar_user", "wincar_password_hash", "own_centre"}

# What a party may set on its own record. A centre's VAT number identifies it to WinCar,
# and being active is the call centre's decision.
OWN_CENTRE = ("name", "email", "pec", "address", "phone")
OWN_DESK = ("name", "email", "pec", "tax_code", "address")
OWN_LAWYER = ("name", "email", "pec", "tax_code", "address")
# The body shop says itself where and when its vehicles can be inspected, and where it is paid.
OWN_REPAIRER = ("address", "email", "pec", "phone", "inspection_hours", "iban")


def editable_fields(user: User | None, party) -> tuple[str, ...]:
    """The fields `user` may change on `party` (empty: it may not edit it at all)."""
    if user is None or not user.is_active or type(party) not in PARTY_TYPES:
        return ()
    if user.role == Role.ADMIN:
        return tuple(name for name in type(party)._meta.fields if name not in NEVER)
    if user.role == Role.ASP_MANAGER and user.asp_centre_id is not None:
        if isinstance(party, AspCentre) and party.id == user.asp_centre_id:
            return OWN_CENTRE
        if isinstance(party, Lawyer) and party.own_centre_id == user.asp_centre_id:
            return OWN_DESK
    if user.role == Role.LAWYER and isinstance(party, Lawyer) and party.id == user.lawyer_id:
        return OWN_LAWYER
    if user.role == Role.REPAIRER and isinstance(party, Repairer) and party.id == user.repairer_id:
        return OWN_REPAIRER
    return ()


def may_edit(user: User | None, party) -> bool:
    return bool(editable_fields(user, party))


def editable_roles(model) -> tuple[str, ...]:
    """The roles that may edit at least one row of `model` (which rows: `may_edit`)."""
    return {
        AspCentre: (Role.ADMIN, Role.ASP_MANAGER),
        Lawyer: (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER),
        Repairer: (Role.ADMIN, Role.REPAIRER),
        InsuranceCompany: (Role.ADMIN,),
    }.get(model, (Role.ADMIN,))


def update_party(party, user: User, values: dict) -> list[ContactChange]:
    """Change `party` as `user`: fields outside what the user may set are ignored, whatever
    was posted; the contact changes are audited in the same transaction. Returns them."""
    allowed = editable_fields(user, party)
    if not allowed:
        raise NotAllowed(_not_yours())
    model = type(party)
    before = {name: getattr(party, name) for name in CONTACT_FIELDS[model]}
    ignored = sorted(set(values) - set(allowed))
    with db.atomic():
        for name, value in values.items():
            if name in allowed:
                setattr(party, name, value)
        party.save()
        changes = record_contact_changes(party, before, user)
    notify.flush()
    log.info("%s %s changed by %s%s", PARTY_TYPES[model], party.id, user.login,
             f" (ignored: {', '.join(ignored)})" if ignored else "")
    return changes


def record_contact_changes(party, before: dict, user: User | None, label: str | None = None) -> list[ContactChange]:
    """Audit each contact address of `party` that differs from `before`, and tell the old
    address. Call inside the transaction that saves the party (an edit, a registration...)."""
    model = type(party)
    rows, now = [], utcnow()
    for name in CONTACT_FIELDS[model]:
        old, new = before.get(name) or None, getattr(party, name) or None
        if old == new:
            continue
        rows.append(ContactChange.create(
            at=now, party_type=PARTY_TYPES[model], party_id=party.id, party_name=str(party)[:200], field=name,
            old_value=old, new_value=new, actor=user, actor_label=label or (str(user) if user else "Gessin")))
        log.info("%s %s: %s changed from %s to %s by %s", PARTY_TYPES[model], party.id, name, old, new,
                 user.login if user else label or "system")
        if old:
            notify.queue(None, [old], "contact_changed", party=party, field=FIELD_WORDS[name], new_value=new,
                         actor=label or (str(user) if user else "Gessin"))
    return rows


def visible_changes(user: User) -> pw.ModelSelect:
    """The audit trail: the call centre's alone."""
    if user is not None and user.is_active and user.role == Role.ADMIN:
        return ContactChange.select()
    return ContactChange.select().where(pw.SQL("1 = 0"))


def _not_yours():
    return _l("Questa anagrafica può essere modificata solo dal call center o dal suo titolare.")


def unlink_lawyers(user: User, lawyer_ids) -> int:
    """An ASP manager stops working with some lawyers: only its own centre's links go;
    the lawyers' records, their other centres and the claims they hold stay as they are."""
    if user is None or not user.is_active or user.role != Role.ASP_MANAGER:
        raise NotAllowed(_l("Solo il responsabile di un Centro ASP toglie un legale dal proprio centro."))
    ids = [int(i) for i in lawyer_ids]
    removed = (LawyerCentre.delete()
               .where(LawyerCentre.asp_centre == user.asp_centre_id, LawyerCentre.lawyer.in_(ids)).execute())
    log.info("lawyers %s unlinked from centre %s by %s (%d links)", ids, user.asp_centre_id, user.login, removed)
    return removed
