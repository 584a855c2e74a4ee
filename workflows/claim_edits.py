"""Which of a claim's fields a user may set through the claim form, per role.

A whitelist, not an exclusion list: a column added to `Claim` is never editable until
it is named here. What the workflow or the intake owns (state, number, version, the
missing items, the outcome, the WinCar reference, the duplicate warnings, the direct
compensation verdict, which `save_edit` recomputes from the facts) is never a form field,
and neither are the parties that decide who sees the file: the repairer and the ASP
centre are chosen once, when a claim is entered by hand, and changed afterwards only by
the call centre's "transfer" event (`workflows.transitions`); the lawyer only by the
entrusting events.
"""
from __future__ import annotations

import peewee as pw
from flask_babel import lazy_gettext as _l

from models import AspCentre, Claim, Repairer, Role, StatusChange, User, db, utcnow

from . import access, next_due, who_pays
from .errors import NotAllowed

# The claim's own data: the customer, the Modulo Blu, amounts and the dates a clerk records.
DATA_FIELDS = (
    "customer_name", "customer_fiscal_code", "customer_phone", "customer_email", "customer_address",
    "accident_date", "accident_time", "accident_place", "vehicle_count",
    "vehicle_a_plate", "vehicle_a_country", "vehicle_a_insurer", "vehicle_a_policy", "vehicle_a_driver",
    "vehicle_a_circumstances",
    "vehicle_b_plate", "vehicle_b_country", "vehicle_b_insurer", "vehicle_b_policy", "vehicle_b_driver",
    "vehicle_b_circumstances",
    "injuries", "injured_persons", "injured_driver_a_only", "passengers_injured", "disability_pct",
    "witnesses", "signed_by_both",
    "insurer", "estimate_amount", "claimed_amount", "notes",
    # What the claim letter names: the payee's IBAN, and the data of a request for personal injury.
    "customer_iban", "injured_birth_date", "injured_occupation", "injured_income", "injury_extent",
    "art142_declaration",
)
# Who the file belongs to: set on a new claim only.
PARTY_FIELDS = ("repairer", "asp_centre")

# Every field any form may ever show, in the form's order.
FORM_FIELDS = PARTY_FIELDS + DATA_FIELDS

# The debtor insurer and the vehicles' insurers are accident data, not parties who see
# the file: a lawyer pursuing the insurer may correct them.
_EDIT = {Role.ADMIN: DATA_FIELDS, Role.ASP_MANAGER: DATA_FIELDS, Role.LAWYER: DATA_FIELDS}
# A manager's centre picker lists its own centre only, and `place_new_claim` sets it anyway.
_CREATE = {Role.ADMIN: PARTY_FIELDS + DATA_FIELDS, Role.ASP_MANAGER: PARTY_FIELDS + DATA_FIELDS}


def editable_fields(user: User | None) -> tuple[str, ...]:
    """The fields `user` may change on an existing claim it sees (none for a repairer)."""
    if user is None or not user.is_active:
        return ()
    return _EDIT.get(user.role, ())


def creatable_fields(user: User | None) -> tuple[str, ...]:
    """The fields `user` may fill in on a claim it enters by hand (none if it may not)."""
    if user is None or not user.is_active:
        return ()
    return _CREATE.get(user.role, ())


def settable_repairers(user: User) -> pw.ModelSelect:
    """The repairers a claim entered by `user` may be for: all for the call centre,
    those already working with its centre for an ASP manager, none for anyone else."""
    if user.role == Role.ADMIN:
        return Repairer.select()
    if user.role == Role.ASP_MANAGER:
        return access.visible_repairers(user)
    return Repairer.select().where(pw.SQL("1 = 0"))


def settable_centres(user: User) -> pw.ModelSelect:
    """The ASP centres a claim entered by `user` may be for: its own for a manager."""
    if user.role == Role.ADMIN:
        return AspCentre.select()
    if user.role == Role.ASP_MANAGER:
        return AspCentre.select().where(AspCentre.id == user.asp_centre_id)
    return AspCentre.select().where(pw.SQL("1 = 0"))


def place_new_claim(claim: Claim, user: User) -> None:
    """Check (and, for a manager, set) the parties of a claim `user` enters by hand.

    An ASP manager's claim is always for its own centre, whatever was posted.
    """
    if user.role == Role.ASP_MANAGER:
        claim.asp_centre = user.asp_centre_id
    if not settable_centres(user).where(AspCentre.id == claim.asp_centre_id).exists():
        raise NotAllowed(_l("Non puoi inserire una pratica per questo Centro ASP."), "asp_centre")
    if not settable_repairers(user).where(Repairer.id == claim.repairer_id).exists():
        raise NotAllowed(_l("Non puoi inserire una pratica per questa carrozzeria."), "repairer")


def save_edit(claim: Claim, fields, read_version: int, before: who_pays.Assessed, user: User) -> bool:
    """Write a form edit of `fields` (already set on `claim`), with the verdict on direct
    compensation and the debtor insurer the facts now give (`who_pays.reassess`; the debtor
    picked in the form, if changed, is the one chosen by hand) and the next deadline, only if
    nobody changed the claim since `read_version` (False if someone did). A verdict or a
    debtor that moves says so in the history, in the same transaction; `before` is what the
    claim held."""
    chosen = claim.insurer_id if "insurer" in fields and claim.insurer_id != before.insurer_id else who_pays.KEEP
    assessed = who_pays.reassess(claim, chosen)
    data = {getattr(Claim, name): getattr(claim, name) for name in fields}
    data.update({getattr(Claim, name): value for name, value in assessed.items()})
    data[Claim.version] = read_version + 1
    data[Claim.updated_at] = claim.updated_at
    note = who_pays.change_note(before, claim)
    with db.atomic():
        if not next_due.update_claim(claim, data, Claim.version == read_version):  # and its reminder day
            return False
        if note:
            StatusChange.create(claim=claim, at=utcnow(), actor=user, actor_label=str(user),
                                event=who_pays.REASSESSED_EVENT, from_status=claim.status, to_status=claim.status,
                                note=note)
    return True
