"""`flask seed-demo`: one seeding, checked from every side, then a second run that adds nothing."""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
from decimal import Decimal

from stdnum.it import codicefiscale, iva

from models import (
    ALL_MODELS,
    AspCentre,
    Attachment,
    Claim,
    ClaimStatus,
    InsuranceCompany,
    Lawyer,
    LawyerCentre,
    OutboundEmail,
    Payment,
    Repairer,
    Role,
    StatusChange,
    User,
    db,
    utcnow,
)
from workflows import notify
from workflows.attachments import storage_path

S = ClaimStatus
ITALIAN_PLATE = re.compile(r"^[A-HJ-NPR-TV-Z]{2}\d{3}[A-HJ-NPR-TV-Z]{2}$")
REQUIRED = ("denuncia", "mandato", "cessione_credito", "richiesta_danni", "documento_identita")


def seed(app, *args):
    result = app.test_cli_runner().invoke(args=["seed-demo", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    db.connect(reuse_if_open=True)
    return result.output


def row_counts() -> dict[str, int]:
    return {m.__name__: m.select().count() for m in ALL_MODELS}


def test_seed_demo_fills_an_empty_database_once(app):
    output = seed(app)
    assert "Accessi demo" in output and "demo-callcenter" in output

    assert AspCentre.select().count() == 3
    assert Repairer.select().count() == 12
    assert Lawyer.select().where(Lawyer.kind != "centre_desk").count() == 6
    assert InsuranceCompany.select().count() == 8
    assert Claim.select().count() == 400
    check_parties()
    check_claims()
    check_history()
    check_payments()
    check_users()
    check_attachments(app)
    check_outcomes()
    assert OutboundEmail.select().count() == 0 and notify.flush() == []  # a replay e-mails no one

    before = row_counts()
    again = seed(app)
    assert "nessuna modifica" in again
    assert row_counts() == before


def test_if_empty_leaves_a_database_with_data_alone(f, app):
    f.centre()
    before = row_counts()
    assert "nessuna modifica" in seed(app, "--if-empty")
    assert row_counts() == before


def check_parties():
    for model in (AspCentre, Repairer):
        assert all(iva.is_valid(row.vat_number) for row in model.select())
    for centre in AspCentre.select():
        assert Lawyer.get(Lawyer.own_centre == centre).kind == "centre_desk"
    for lawyer in Lawyer.select().where(Lawyer.kind != "centre_desk"):
        assert 1 <= LawyerCentre.select().where(LawyerCentre.lawyer == lawyer).count() <= 2
    assert all(i.claims_email for i in InsuranceCompany.select())


def check_claims():
    claims = list(Claim.select())
    assert {c.status for c in claims} == set(S.ALL)
    works_for = {(link.lawyer_id, link.asp_centre_id) for link in LawyerCentre.select()}
    desks = {law.own_centre_id: law.id for law in Lawyer.select().where(Lawyer.own_centre.is_null(False))}
    oldest = utcnow() - dt.timedelta(days=550)
    for claim in claims:
        assert oldest < claim.received_at < utcnow()
        assert claim.number.startswith(f"{claim.received_at.year}/")
        assert claim.accident_date < claim.received_at.date()
        assert ITALIAN_PLATE.match(claim.vehicle_a_plate) and ITALIAN_PLATE.match(claim.vehicle_b_plate)
        assert codicefiscale.is_valid(claim.customer_fiscal_code)
        assert claim.insurer_id and claim.accident_place and claim.vehicle_a_circumstances
        assert isinstance(claim.estimate_amount, Decimal) and isinstance(claim.claimed_amount, Decimal)
        assert claim.claimed_amount >= claim.estimate_amount > 0
        if claim.status in (S.RECEIVED, S.INCOMPLETE, S.VALIDATED, S.CANCELLED):
            assert claim.lawyer_id is None
        elif claim.status != S.DROPPED:
            assert (claim.lawyer_id, claim.asp_centre_id) in works_for or claim.lawyer_id == desks[claim.asp_centre_id]
    assert any(c.injuries for c in claims) and any(c.signed_by_both for c in claims)
    ages = [(utcnow() - c.received_at).days for c in claims]
    assert min(ages) < 7 and max(ages) > 365


def check_history():
    claims = {c.id: c for c in Claim.select()}
    rows = StatusChange.select().order_by(StatusChange.claim, StatusChange.at, StatusChange.id)
    seen = set()
    for claim_id, group in itertools.groupby(rows, key=lambda r: r.claim_id):
        history, claim = list(group), claims[claim_id]
        seen.add(claim_id)
        assert (history[0].from_status, history[0].to_status) == (None, S.RECEIVED)
        assert history[0].at == claim.received_at
        for previous, row in itertools.pairwise(history):
            assert row.from_status == previous.to_status and row.at > previous.at
        assert history[-1].to_status == claim.status
        assert history[-1].at == claim.status_since
        assert claim.version == len(history)
        assert all(r.actor_label for r in history)
    assert seen == set(claims)


def check_payments():
    payments = list(Payment.select(Payment, Claim).join(Claim))
    assert {p.kind for p in payments} == {"offer", "reimbursement"}
    for payment in payments:
        assert isinstance(payment.amount, Decimal) and payment.amount > 0
        assert payment.claim.status in (S.FILED, S.PARTIALLY_REIMBURSED, S.REIMBURSED, S.CLOSED)
        assert payment.on_date <= utcnow().date()
    for claim in Claim.select().where(Claim.status == S.REIMBURSED):
        paid = sum(p.amount for p in claim.payments if p.kind == "reimbursement")
        assert paid == claim.claimed_amount
    # a file the insurer has paid asks for no offer: "Da fare oggi" never chases one
    partly = Claim.select().where(Claim.status == S.PARTIALLY_REIMBURSED)
    assert partly.count() > 0 and all(c.first_paid_on is not None for c in partly)
    assert not partly.where(Claim.next_due_kind == "offer").exists()


def check_users():
    expected = {"callcenter": Role.ADMIN, "asp": Role.ASP_MANAGER, "legale": Role.LAWYER,
                "carrozzeria": Role.REPAIRER}
    users = {u.login: u for u in User.select().where(User.login.in_(list(expected)))}
    assert {login: u.role for login, u in users.items()} == expected
    for login, user in users.items():
        assert user.check_password(f"demo-{login}")
    first_centre = AspCentre.select().order_by(AspCentre.id).first()
    assert users["asp"].asp_centre_id == first_centre.id
    assert LawyerCentre.select().where(LawyerCentre.lawyer == users["legale"].lawyer_id,
                                       LawyerCentre.asp_centre == first_centre).exists()
    assert users["carrozzeria"].repairer_id == Repairer.select().order_by(Repairer.id).first().id
    in_first_centre = Claim.select().where(Claim.asp_centre == first_centre)
    assert in_first_centre.where(Claim.lawyer == users["legale"].lawyer_id).count() > 0
    assert in_first_centre.where(Claim.repairer == users["carrozzeria"].repairer_id).count() > 0


def check_attachments(app):
    attachments = list(Attachment.select())
    for attachment in attachments:
        data = storage_path(app.config["STORAGE_DIR"], attachment.stored_name).read_bytes()
        assert data.startswith(b"%PDF-") and hashlib.sha256(data).hexdigest() == attachment.sha256
    kinds: dict[int, set[str]] = {}
    for attachment in attachments:
        kinds.setdefault(attachment.claim_id, set()).add(attachment.kind)
    for claim in Claim.select():
        assert "preventivo" in kinds[claim.id]
        last_change = claim.history.order_by(StatusChange.at.desc()).first()
        never_completed = S.INCOMPLETE in (claim.status, last_change.from_status if claim.status == S.DROPPED else None)
        assert (set(REQUIRED) <= kinds[claim.id]) != never_completed, claim.number
    assert any("fattura" in k for k in kinds.values())


def check_outcomes():
    """Incomplete files list what they miss; finished ones say why they ended."""
    import json

    from workflows import checklist
    from workflows.transitions import OUTCOME_REASONS
    known = dict(checklist.all_items())
    for claim in Claim.select():
        if claim.status == S.INCOMPLETE:
            missing = json.loads(claim.missing_items)
            assert missing and all(code in known for code in missing), claim.number
        if claim.status in (S.CLOSED, S.DROPPED):
            assert claim.outcome_reason in OUTCOME_REASONS, claim.number
        if claim.status == S.REIMBURSED:
            assert claim.outcome_reason == "paid"
