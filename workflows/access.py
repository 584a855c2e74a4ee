"""Who may see what: every query a user's screen runs starts from one of these.

An ASP manager sees its centre's claims and the parties on them, a lawyer the
claims entrusted to it, a repairer its own claims; the call centre sees all.
"""
from __future__ import annotations

import peewee as pw

from models import (
    AspCentre,
    Attachment,
    Claim,
    InsuranceCompany,
    Lawyer,
    LawyerCentre,
    OutboundEmail,
    Payment,
    Repairer,
    RepairerCentre,
    Role,
    StatusChange,
    User,
    parse_id,
)

_NOTHING = pw.SQL("1 = 0")


# The party a role's user is linked to, and so the claims it sees: the one rule behind
# the SQL scope below and the in-memory check the workflow engine makes.
SCOPE_LINK = {Role.ASP_MANAGER: "asp_centre", Role.LAWYER: "lawyer", Role.REPAIRER: "repairer"}


def claim_scope(user: User) -> pw.Expression:
    """The WHERE clause that limits claims to those `user` may see."""
    if user is None or not user.is_active or user.role not in (Role.ADMIN, *SCOPE_LINK):
        return _NOTHING
    if user.role == Role.ADMIN:
        return pw.SQL("1 = 1")
    link = SCOPE_LINK[user.role]
    return getattr(Claim, link) == getattr(user, f"{link}_id")


def sees_all(user: User) -> bool:
    """Whether `claim_scope(user)` is every claim (the call centre): a query over rows
    that point at claims may then skip the join that would only apply the scope."""
    return user is not None and user.is_active and user.role == Role.ADMIN


def sees(user: User, claim: Claim) -> bool:
    """The same rule as `claim_scope`, for a claim already read."""
    if user is None or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    link = SCOPE_LINK.get(user.role)
    mine = getattr(user, f"{link}_id", None) if link else None
    return mine is not None and getattr(claim, f"{link}_id") == mine


def visible_claims(user: User, *fields) -> pw.ModelSelect:
    return Claim.select(*fields).where(claim_scope(user))


def get_claim(user: User, claim_id) -> Claim | None:
    """The claim with `claim_id` if `user` may see it, else None (never someone else's)."""
    claim_id = parse_id(claim_id)
    if claim_id is None:
        return None
    return visible_claims(user).where(Claim.id == claim_id).first()


def visible_repairers(user: User) -> pw.ModelSelect:
    query = Repairer.select()
    if user.role == Role.ADMIN:
        return query
    if user.role == Role.REPAIRER:
        return query.where(Repairer.id == user.repairer_id)
    # EXISTS over the (repairer, centre|lawyer) index: one probe per repairer, not a claim scan.
    on_claims = pw.fn.EXISTS(Claim.select(pw.SQL("1")).where(Claim.repairer == Repairer.id, claim_scope(user)))
    if user.role == Role.ASP_MANAGER:  # and the body shops that work with its centre, files or not
        return query.where(on_claims | Repairer.id.in_(affiliated_repairers(user.asp_centre_id)))
    return query.where(on_claims)


def affiliated_repairers(centre_id) -> pw.ModelSelect:
    """Ids of the repairers that work with the centre (`RepairerCentre`)."""
    return RepairerCentre.select(RepairerCentre.repairer).where(RepairerCentre.asp_centre == centre_id)


def affiliated_centres(repairer_id) -> pw.ModelSelect:
    """The ASP centres a repairer works with, by name."""
    return (AspCentre.select().join(RepairerCentre, on=(RepairerCentre.asp_centre == AspCentre.id))
            .where(RepairerCentre.repairer == repairer_id).order_by(AspCentre.name))


def visible_centres(user: User) -> pw.ModelSelect:
    query = AspCentre.select()
    if user.role == Role.ADMIN:
        return query
    if user.role == Role.ASP_MANAGER:
        return query.where(AspCentre.id == user.asp_centre_id)
    if user.role == Role.LAWYER:
        return query.where(AspCentre.id.in_(
            LawyerCentre.select(LawyerCentre.asp_centre).where(LawyerCentre.lawyer == user.lawyer_id)))
    return query.where(AspCentre.id.in_(visible_claims(user, Claim.asp_centre))
                       | AspCentre.id.in_(RepairerCentre.select(RepairerCentre.asp_centre)
                                          .where(RepairerCentre.repairer == user.repairer_id)))


def visible_lawyers(user: User) -> pw.ModelSelect:
    """Lawyers a user may see: for a centre, those who work for it and its own desk."""
    query = Lawyer.select()
    if user.role == Role.ADMIN:
        return query
    if user.role == Role.ASP_MANAGER:
        return query.where(
            Lawyer.id.in_(LawyerCentre.select(LawyerCentre.lawyer).where(LawyerCentre.asp_centre == user.asp_centre_id))
            | (Lawyer.own_centre == user.asp_centre_id)
        )
    if user.role == Role.LAWYER:
        return query.where(Lawyer.id == user.lawyer_id)
    return query.where(Lawyer.id.in_(visible_claims(user, Claim.lawyer).where(Claim.lawyer.is_null(False))))


def visible_insurers(user: User) -> pw.ModelSelect:
    """Insurers are public reference data: everyone may read the list."""
    return InsuranceCompany.select()


def visible_users(user: User) -> pw.ModelSelect:
    if user.role == Role.ADMIN:
        return User.select()
    return User.select().where(User.id == user.id)


def visible_history(user: User) -> pw.ModelSelect:
    return StatusChange.select().join(Claim).where(claim_scope(user))


def visible_emails(user: User) -> pw.ModelSelect:
    """The outbox rows `user` may see, each with its message's subject and body (one query)."""
    emails = OutboundEmail.with_message()
    if user.role == Role.ADMIN:
        return emails
    return emails.switch(OutboundEmail).join(Claim).where(claim_scope(user))


def visible_attachments(user: User) -> pw.ModelSelect:
    return Attachment.select().join(Claim).where(claim_scope(user))


def visible_payments(user: User) -> pw.ModelSelect:
    return Payment.select().join(Claim).where(claim_scope(user))


def may_edit_claims(user: User) -> bool:
    """Repairers only read; centre managers, lawyers and the call centre edit data."""
    return user.role in (Role.ADMIN, Role.ASP_MANAGER, Role.LAWYER)


def status_counts(user: User) -> dict[str, int]:
    """Claims per state among those `user` may see (COUNT(*): the (scope, status) indexes answer
    it alone, where COUNT(id) sent PostgreSQL to the table's rows)."""
    rows = (visible_claims(user, Claim.status, pw.fn.COUNT(pw.SQL("*")).alias("n"))
            .group_by(Claim.status).tuples())
    return dict(rows)
