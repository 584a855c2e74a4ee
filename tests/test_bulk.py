"""Bulk actions in batches: same rules as one by one, fewer statements."""
from __future__ import annotations

from models import Claim, ClaimStatus, OutboundEmail, Role, StatusChange
from workflows import engine
from workflows.bulk import apply_many

from .conftest import QueryCounter
from .test_workflows import claim_in, desk, new_claim  # noqa: F401 - fixtures and builders


def test_bulk_entrusting_applies_to_what_it_can_and_says_why_it_skips(desk):
    manager = desk.users[Role.ASP_MANAGER]
    ready = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(3)]
    not_yet = claim_in(desk, ClaimStatus.RECEIVED)
    foreign = desk.f.claim(desk.f.repairer(), desk.f.centre())
    result = apply_many("assign", [c.id for c in ready + [not_yet, foreign]], manager, lawyer=desk.lawyer.id)
    assert sorted(result.succeeded) == sorted(c.number for c in ready)
    reasons = dict(result.skipped)
    assert "Ricevuta" in reasons[not_yet.number]
    assert reasons[str(foreign.id)] == "pratica non trovata o non visibile"
    for claim in ready:
        saved = Claim.get_by_id(claim.id)
        assert (saved.status, saved.lawyer_id, saved.version) == (ClaimStatus.ASSIGNED, desk.lawyer.id, claim.version + 1)
        last = StatusChange.select().where(StatusChange.claim == claim).order_by(StatusChange.id.desc()).first()
        assert (last.event, last.from_status, last.to_status, last.actor_id) == ("assign", "validated", "assigned", manager.id)
        recipients = {e.recipients for e in OutboundEmail.select().where(OutboundEmail.claim == claim,
                                                                         OutboundEmail.subject.contains("Affidata"))}
        assert recipients == {desk.repairer.email, desk.centre.email, desk.lawyer.email}
    assert Claim.get_by_id(not_yet.id).status == ClaimStatus.RECEIVED


def test_bulk_validation_checks_each_claims_documents(desk):
    manager = desk.users[Role.ASP_MANAGER]
    complete = new_claim(desk)
    lacking = new_claim(desk, documents=("denuncia",))
    result = apply_many("validate", [complete.id, lacking.id], manager)
    assert result.succeeded == [complete.number]
    assert "il mandato firmato dal cliente" in dict(result.skipped)[lacking.number]


def test_a_claim_changed_meanwhile_is_skipped_not_overwritten(desk, monkeypatch):
    manager = desk.users[Role.ASP_MANAGER]
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(2)]
    from workflows import bulk
    original = bulk._load

    def load_then_race(ids, user):
        loaded = original(ids, user)
        engine.apply("drop", Claim.get_by_id(claims[0].id), desk.users[Role.ADMIN], reason="duplicate")
        return loaded
    monkeypatch.setattr(bulk, "_load", load_then_race)
    result = apply_many("self_assign", [c.id for c in claims], manager)
    assert result.succeeded == [claims[1].number]
    assert dict(result.skipped)[claims[0].number] == "modificata da un altro utente nel frattempo"
    assert Claim.get_by_id(claims[0].id).status == ClaimStatus.DROPPED


def test_statements_do_not_grow_with_the_number_of_claims(desk):
    manager = desk.users[Role.ASP_MANAGER]
    counts = {}
    for n in (5, 40):
        claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(n)]
        with QueryCounter() as queries:
            result = apply_many("self_assign", [c.id for c in claims], manager)
        assert len(result.succeeded) == n
        counts[n] = queries.count
    assert counts[40] == counts[5], counts


def test_bulk_drop_needs_a_reason(desk):
    claim = claim_in(desk, ClaimStatus.RECEIVED)
    result = apply_many("drop", [claim.id], desk.users[Role.ASP_MANAGER])
    assert result.succeeded == [] and "motivo" in dict(result.skipped)[claim.number]
