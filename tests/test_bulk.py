"""Bulk actions in batches: same rules as one by one, fewer statements."""
from __future__ import annotations

import pytest

from models import Claim, ClaimStatus, OutboundEmail, OutboundMessage, ReminderDue, Role, StatusChange
from workflows import engine
from workflows.bulk import apply_many
from workflows.errors import InvalidData

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
    emails = list(OutboundEmail.with_message().where(OutboundMessage.subject.contains("affidate")))
    assert {e.recipients for e in emails} == {desk.repairer.email, desk.centre.email, desk.lawyer.email}
    assert all(claim.number in e.body for e in emails for claim in ready)
    assert Claim.get_by_id(not_yet.id).status == ClaimStatus.RECEIVED


def test_a_bulk_entrust_tells_each_party_once_listing_its_claims(desk):
    manager = desk.users[Role.ASP_MANAGER]
    other_shop = desk.f.repairer()
    mine = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(3)]
    theirs = [claim_in(desk, ClaimStatus.VALIDATED, repairer=other_shop) for _ in range(2)]
    before = OutboundEmail.select().count()
    apply_many("assign", [c.id for c in mine + theirs], manager, lawyer=desk.lawyer.id)
    emails = {e.recipients: e for e in OutboundEmail.select().where(OutboundEmail.id > 0).order_by(OutboundEmail.id)
              [before:]}
    assert set(emails) == {desk.repairer.email, other_shop.email, desk.centre.email, desk.lawyer.email}
    listed = {address: {c.number for c in mine + theirs if c.number in e.body} for address, e in emails.items()}
    assert listed == {desk.repairer.email: {c.number for c in mine}, other_shop.email: {c.number for c in theirs},
                      desk.centre.email: {c.number for c in mine + theirs},
                      desk.lawyer.email: {c.number for c in mine + theirs}}
    lawyer_mail = emails[desk.lawyer.email]
    assert lawyer_mail.subject == f"5 pratiche affidate a {desk.lawyer.name}" and lawyer_mail.claim_id is None
    assert f"{manager} ha registrato che 5 pratiche che vi riguardano sono state affidate a {desk.lawyer.name}." \
        in lawyer_mail.body
    assert all(f"/admin/claim/details/?id={c.id}" in lawyer_mail.body for c in mine + theirs)


def test_parties_told_about_the_same_claims_share_one_text_rendered_once(desk, monkeypatch):
    from workflows import notify
    manager, other_shop = desk.users[Role.ASP_MANAGER], desk.f.repairer()
    mine = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(3)]
    theirs = [claim_in(desk, ClaimStatus.VALIDATED, repairer=other_shop) for _ in range(2)]
    before, texts = OutboundEmail.select().count(), OutboundMessage.select().count()
    rendered = []
    monkeypatch.setattr(notify, "_render", lambda *a, **kw: rendered.append(kw["count"]) or ("Oggetto", "Testo"))
    apply_many("assign", [c.id for c in mine + theirs], manager, lawyer=desk.lawyer.id)
    emails = list(OutboundEmail.select().order_by(OutboundEmail.id)[before:])
    by_text = {}
    for e in emails:
        by_text.setdefault(e.message_id, set()).add(e.recipients)
    assert sorted(by_text.values(), key=len) == [{desk.repairer.email}, {other_shop.email},
                                                 {desk.centre.email, desk.lawyer.email}]
    assert sorted(rendered) == [2, 3, 5] and OutboundMessage.select().count() - texts == 3


def test_a_bulk_action_on_one_claim_names_it_in_the_subject(desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    before = OutboundEmail.select().count()
    apply_many("self_assign", [claim.id], desk.users[Role.ASP_MANAGER])
    emails = list(OutboundEmail.select().order_by(OutboundEmail.id)[before:])
    assert {(e.claim_id, e.subject) for e in emails} == {
        (claim.id, f"Pratica {claim.number} presa in carico dal centro {desk.centre.name}")}
    assert len(emails) == 2  # the repairer and the centre


def test_a_long_bulk_list_is_cut_with_a_count_and_a_link(desk, monkeypatch):
    from workflows import bulk
    monkeypatch.setattr(bulk, "LISTED", 2)
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(4)]
    apply_many("drop", [c.id for c in claims], desk.users[Role.ASP_MANAGER], reason="duplicate")
    [to_centre] = OutboundEmail.with_message().where(OutboundEmail.recipients == desk.centre.email,
                                                     OutboundMessage.subject == "4 pratiche chiuse senza seguito")
    assert sum(c.number in to_centre.body for c in claims) == 2
    assert "e altre 2 pratiche: le trovate nella griglia delle pratiche, http://127.0.0.1/admin/claim/" in to_centre.body


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
    with pytest.raises(InvalidData) as refused:  # refused before any claim is read, not skipped one by one
        apply_many("drop", [claim.id], desk.users[Role.ASP_MANAGER])
    assert "motivo" in str(refused.value.message) and Claim.get_by_id(claim.id).status == ClaimStatus.RECEIVED


def test_claims_read_at_different_versions_are_checked_each_at_its_own(desk, monkeypatch):
    manager = desk.users[Role.ASP_MANAGER]
    claims = [claim_in(desk, ClaimStatus.VALIDATED) for _ in range(4)]
    for claim in claims[:2]:  # two of them a version ahead of the others
        Claim.update(version=Claim.version + 1).where(Claim.id == claim.id).execute()
    from workflows import bulk
    original = bulk._load

    def load_then_edit(ids, user):
        loaded = original(ids, user)
        for raced in (claims[0], claims[2]):  # edited meanwhile, state unchanged: one of each version
            Claim.update(version=Claim.version + 1).where(Claim.id == raced.id).execute()
        return loaded
    monkeypatch.setattr(bulk, "_load", load_then_edit)
    result = apply_many("assign", [c.id for c in claims], manager, lawyer=desk.lawyer.id)
    assert sorted(result.succeeded) == sorted([claims[1].number, claims[3].number])
    assert dict(result.skipped) == {claims[0].number: "modificata da un altro utente nel frattempo",
                                    claims[2].number: "modificata da un altro utente nel frattempo"}
    statuses = {c.id: Claim.get_by_id(c.id).status for c in claims}
    assert statuses == {claims[0].id: ClaimStatus.VALIDATED, claims[1].id: ClaimStatus.ASSIGNED,
                        claims[2].id: ClaimStatus.VALIDATED, claims[3].id: ClaimStatus.ASSIGNED}
    assert StatusChange.select().where(StatusChange.claim.in_([claims[0].id, claims[2].id]),
                                       StatusChange.event == "assign").count() == 0


def test_a_bulk_history_row_reads_as_one_written_claim_by_claim(desk):
    manager = desk.users[Role.ASP_MANAGER]
    one, many = claim_in(desk, ClaimStatus.VALIDATED), claim_in(desk, ClaimStatus.VALIDATED)
    engine.apply("assign", one, manager, lawyer=desk.lawyer.id)
    apply_many("assign", [many.id], manager, lawyer=desk.lawyer.id)
    rows = [StatusChange.select().where(StatusChange.claim == c.id).order_by(StatusChange.id.desc()).get()
            for c in (one, many)]
    assert len({(r.actor_id, r.actor_label, r.event, r.from_status, r.to_status, r.note) for r in rows}) == 1
    deadlines = [Claim.select(Claim.next_due_on, Claim.next_due_kind, Claim.next_warn_on).where(Claim.id == c.id)
                 .tuples().get() for c in (one, many)]
    reminders = [ReminderDue.select(ReminderDue.remind_on, ReminderDue.due_on, ReminderDue.warn_on)
                 .where(ReminderDue.claim == c.id).tuples().get() for c in (one, many)]
    assert deadlines[0] == deadlines[1] and deadlines[0][0] is not None
    assert reminders[0] == reminders[1]
