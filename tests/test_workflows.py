"""The claim workflow without HTTP: every event against every state and role, from the table."""
from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest

from models import Claim, ClaimStatus, OutboundEmail, Payment, Role, StatusChange, db
from workflows import checklist, clock, engine, notify
from workflows.attachments import add_document, store_attachment
from workflows.errors import Conflict, InvalidData, NotAllowed
from workflows.transitions import TRANSITIONS

PDF = b"%PDF-1.4 documento"
TODAY = clock.today()  # a past date for a test running across midnight; the future is computed at call time

VALID_DATA = {
    "validate": {},
    "mark_incomplete": {"missing": ["doc:mandato"], "note": "firma mancante"},
    "complete": {},
    "assign": "lawyer",
    "self_assign": {},
    "reassign": {"lawyer": "self"},
    "file_claim": {"filed_on": TODAY.isoformat(), "signed_by_both": True, "personal_injury": False},
    "record_offer": {"amount": "500,00", "on_date": TODAY},
    "record_payment": {"amount": "100,00", "on_date": TODAY},
    "request_missing": {"requested_on": TODAY, "items": "foto del veicolo"},
    "send_missing": {"sent_on": TODAY},
    "receive_missing": {"received_on": TODAY},
    "refuse_offer": {"refused_on": TODAY, "reason": "responsabilità del proprio assicurato non provata"},
    "fraud_check": {"notified_on": TODAY},
    "answer_offer": {"answer": "accepted", "answered_on": TODAY},
    "receive_answer": {"received_on": TODAY},
    "suspend_offer_term": {"kind": "inspection", "start_on": TODAY},
    "end_suspension": {"end_on": TODAY},
    "interrupt_prescription": {"sent_on": TODAY, "means": "pec", "note": "diffida"},
    "receive_demand": {"received_on": TODAY},
    "longer_prescription": {"years": "6", "reason": "lesioni personali colpose (art. 590 c.p.)"},
    "close": {"reason": "settled"},
    "drop": {"reason": "no_cover"},
    "reopen": {"note": "chiusa per errore"},
    "cancel": {"note": "inserita due volte"},
    "transfer": "repairer",
}


@pytest.fixture
def desk(f, app):
    centre, repairer, insurer = f.centre(name="Centro Alfa"), f.repairer(), f.insurer()
    lawyer = f.lawyer(centre, name="Avv. Alfa")
    users = {
        Role.ADMIN: f.user(Role.ADMIN, full_name="Call Center"),
        Role.ASP_MANAGER: f.user(Role.ASP_MANAGER, asp_centre=centre),
        Role.LAWYER: f.user(Role.LAWYER, lawyer=lawyer),
        Role.REPAIRER: f.user(Role.REPAIRER, repairer=repairer),
    }
    return SimpleNamespace(f=f, app=app, centre=centre, repairer=repairer, insurer=insurer, lawyer=lawyer, users=users)


def data_for(desk, event):
    data = VALID_DATA[event]
    if data == "repairer":  # a transfer to another body shop, with its reason
        return {"repairer": desk.f.repairer().id, "note": "inviata alla carrozzeria sbagliata"}
    return {"lawyer": desk.lawyer.id} if data == "lawyer" else dict(data)


def new_claim(desk, documents=checklist.DEFAULT_REQUIRED_DOCUMENTS, **kw):
    values = dict(insurer=desk.insurer, accident_date=TODAY - dt.timedelta(days=10),
                  claimed_amount=Decimal("1000.00"))
    values.update(kw)
    claim = desk.f.claim(values.pop("repairer", desk.repairer), desk.centre, **values)
    for kind in documents:
        store_attachment(claim, kind, f"{kind}.pdf", PDF, storage_dir=desk.app.config["STORAGE_DIR"])
    return claim


# The events that bring a fresh claim into each state.
PATHS = {
    ClaimStatus.RECEIVED: [],
    ClaimStatus.INCOMPLETE: ["mark_incomplete"],
    ClaimStatus.VALIDATED: ["validate"],
    ClaimStatus.ASSIGNED: ["validate", "assign"],
    ClaimStatus.FILED: ["validate", "assign", "file_claim"],
    ClaimStatus.PARTIALLY_REIMBURSED: ["validate", "assign", "file_claim", "record_payment"],
    ClaimStatus.REIMBURSED: ["validate", "assign", "file_claim", ("record_payment", {"final": True})],
    ClaimStatus.CLOSED: ["validate", "assign", "close"],
    ClaimStatus.DROPPED: ["drop"],
    ClaimStatus.CANCELLED: [("cancel", {"note": "inserita due volte"})],
}


def claim_in(desk, status, **kw):
    claim = new_claim(desk, documents=checklist.DEFAULT_REQUIRED_DOCUMENTS + ("fattura",), **kw)
    admin = desk.users[Role.ADMIN]
    for step in PATHS[status]:
        event, extra = step if isinstance(step, tuple) else (step, {})
        claim = engine.apply(event, claim, admin, **{**data_for(desk, event), **extra})
    assert claim.status == status
    return claim


def expected_target(event, claim):
    t = TRANSITIONS[event]
    if event == "record_payment":
        return ClaimStatus.PARTIALLY_REIMBURSED
    if event == "reopen":
        return StatusChange.select().where(StatusChange.claim == claim, StatusChange.to_status == claim.status) \
            .order_by(StatusChange.id.desc()).first().from_status
    return t.target or claim.status


def in_scope(claim, user):
    return user.role != Role.LAWYER or claim.lawyer_id == user.lawyer_id


CASES = [(event, status) for event in TRANSITIONS for status in ClaimStatus.ALL]


@pytest.mark.parametrize("event, status", CASES, ids=[f"{e}-from-{s}" for e, s in CASES])
def test_every_event_from_every_state_for_every_role(desk, event, status):
    t = TRANSITIONS[event]
    claim = claim_in(desk, status)
    allowed = [u for role, u in desk.users.items()
               if role in t.roles and status in t.sources and in_scope(claim, u)
               and (t.applies is None or t.applies(claim)) and (t.allowed is None or t.allowed(claim, u))]
    for role, user in desk.users.items():
        assert engine.can(event, claim, user) == (user in allowed), (role, event, status)
        if user in allowed:
            continue
        history = StatusChange.select().where(StatusChange.claim == claim).count()
        with pytest.raises(NotAllowed):
            engine.apply(event, claim, user, **data_for(desk, event))
        assert Claim.get_by_id(claim.id).version == claim.version
        assert StatusChange.select().where(StatusChange.claim == claim).count() == history
    if not allowed:
        return
    actor = allowed[-1]  # the least privileged role the table allows
    target = expected_target(event, claim)
    saved = engine.apply(event, claim, actor, version=claim.version, **data_for(desk, event))
    assert saved.status == target
    assert saved.version == claim.version + 1
    last = StatusChange.select().where(StatusChange.claim == claim).order_by(StatusChange.id.desc()).first()
    assert (last.event, last.from_status, last.to_status, last.actor_id) == (event, status, target, actor.id)


def test_a_repairer_can_never_act(desk):
    claim = claim_in(desk, ClaimStatus.RECEIVED)
    assert engine.available(claim, desk.users[Role.REPAIRER]) == []


def test_validation_lists_what_is_missing_in_words(desk):
    claim = new_claim(desk, documents=("denuncia", "mandato"), insurer=None)
    with pytest.raises(InvalidData) as error:
        engine.apply("validate", claim, desk.users[Role.ASP_MANAGER])
    message = str(error.value.message)
    assert "la compagnia debitrice" in message
    assert "la cessione del credito firmata dal cliente" in message
    assert "il mandato" not in message
    assert Claim.get_by_id(claim.id).status == ClaimStatus.RECEIVED


def test_an_incomplete_claim_returns_to_validation_when_the_last_document_arrives(desk):
    claim = new_claim(desk, documents=("denuncia", "mandato", "cessione_credito", "richiesta_danni"))
    claim = engine.apply("mark_incomplete", claim, desk.users[Role.ASP_MANAGER],
                         missing=["doc:documento_identita"], note="Serve la carta d'identità")
    assert claim.status == ClaimStatus.INCOMPLETE
    assert checklist.describe("doc:documento_identita") in StatusChange.select().order_by(
        StatusChange.id.desc()).first().note
    add_document(claim, "foto", "foto.pdf", PDF, storage_dir=desk.app.config["STORAGE_DIR"], source="wincar")
    assert Claim.get_by_id(claim.id).status == ClaimStatus.INCOMPLETE
    add_document(claim, "documento_identita", "ci.pdf", PDF, storage_dir=desk.app.config["STORAGE_DIR"],
                 source="wincar")
    back = Claim.get_by_id(claim.id)
    assert back.status == ClaimStatus.RECEIVED and back.missing_items is None
    last = StatusChange.select().order_by(StatusChange.id.desc()).first()
    assert (last.event, last.actor_label) == ("complete", "Gessin")


def test_mark_incomplete_needs_known_missing_items(desk):
    claim = new_claim(desk)
    manager = desk.users[Role.ASP_MANAGER]
    with pytest.raises(InvalidData):
        engine.apply("mark_incomplete", claim, manager, missing=[])
    with pytest.raises(InvalidData):
        engine.apply("mark_incomplete", claim, manager, missing=["doc:nonexistent"])


def test_a_lawyer_of_another_centre_cannot_be_entrusted(desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    stranger = desk.f.lawyer(desk.f.centre(), name="Avv. Altrove")
    with pytest.raises(InvalidData, match="non lavora per il centro"):
        engine.apply("assign", claim, desk.users[Role.ASP_MANAGER], lawyer=stranger.id)


def test_self_assignment_entrusts_the_centres_own_desk(desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    saved = engine.apply("self_assign", claim, desk.users[Role.ASP_MANAGER])
    assert saved.lawyer.own_centre_id == desk.centre.id and saved.lawyer.kind == "centre_desk"


def test_filing_records_the_dates_the_deadlines_need(desk):
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    lawyer = desk.users[Role.LAWYER]
    with pytest.raises(InvalidData, match="futuro"):
        engine.apply("file_claim", claim, lawyer, filed_on=clock.today() + dt.timedelta(days=1))
    with pytest.raises(InvalidData, match="precedere"):
        engine.apply("file_claim", claim, lawyer, filed_on=TODAY - dt.timedelta(days=30))
    saved = engine.apply("file_claim", claim, lawyer, filed_on=TODAY, signed_by_both="y", personal_injury="")
    assert (saved.claim_filed_on, saved.signed_by_both, saved.injuries) == (TODAY, True, False)


def test_payments_up_to_the_claimed_amount_close_the_file(desk):
    claim = claim_in(desk, ClaimStatus.FILED)
    lawyer = desk.users[Role.LAWYER]
    claim = engine.apply("record_offer", claim, lawyer, amount="800", on_date=TODAY)
    assert claim.status == ClaimStatus.FILED
    claim = engine.apply("record_payment", claim, lawyer, amount="600,00", on_date=TODAY)
    assert claim.status == ClaimStatus.PARTIALLY_REIMBURSED
    claim = engine.apply("record_payment", claim, lawyer, amount="400,00", on_date=TODAY)
    assert claim.status == ClaimStatus.REIMBURSED and claim.closed_at is not None
    amounts = [p.amount for p in Payment.select().where(Payment.claim == claim).order_by(Payment.id)]
    assert amounts == [Decimal("800.00"), Decimal("600.00"), Decimal("400.00")]


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1,234", "1.5", "100.00", ""])
def test_amounts_must_be_positive_money(desk, amount):
    claim = claim_in(desk, ClaimStatus.FILED)
    with pytest.raises(InvalidData):
        engine.apply("record_payment", claim, desk.users[Role.LAWYER], amount=amount, on_date=TODAY)
    assert Payment.select().count() == 0


def test_a_payment_received_under_an_assigned_credit_without_the_invoice_is_recorded_with_a_warning(desk):
    """Art. 149-bis CdA: the insurer pays repair costs against the invoice; a payment it made
    anyway was received, and is recorded: the file is warned, the payment never refused."""
    claim = new_claim(desk)  # has cessione_credito, no fattura
    admin = desk.users[Role.ADMIN]
    for event in ("validate", "assign", "file_claim"):
        claim = engine.apply(event, claim, admin, **data_for(desk, event))
    assert "149-bis" in engine.payment_warning(claim)
    saved = engine.apply("record_payment", claim, admin, amount="100", on_date=TODAY)
    assert saved.status == ClaimStatus.PARTIALLY_REIMBURSED and Payment.select().count() == 1
    last = StatusChange.select().where(StatusChange.claim == claim).order_by(StatusChange.id.desc()).first()
    assert "149-bis" in last.note
    add_document(claim, "fattura", "fattura.pdf", PDF, storage_dir=desk.app.config["STORAGE_DIR"])
    assert engine.payment_warning(Claim.get_by_id(claim.id)) is None


def test_closing_for_another_reason_needs_a_note(desk):
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    lawyer = desk.users[Role.LAWYER]
    with pytest.raises(InvalidData):
        engine.apply("close", claim, lawyer, reason="other")
    with pytest.raises(InvalidData):
        engine.apply("close", claim, lawyer, reason="because")
    saved = engine.apply("close", claim, lawyer, reason="other", note="Accordo diretto col cliente")
    assert (saved.status, saved.outcome_reason, saved.outcome_note) == ("closed", "other", "Accordo diretto col cliente")


def test_reopening_returns_to_the_state_before_closing(desk):
    claim = claim_in(desk, ClaimStatus.CLOSED)
    admin = desk.users[Role.ADMIN]
    with pytest.raises(InvalidData):
        engine.apply("reopen", claim, admin, note="  ")
    saved = engine.apply("reopen", claim, admin, note="Chiusa per errore")
    assert saved.status == ClaimStatus.ASSIGNED and saved.outcome_reason is None


def test_a_stale_version_is_a_conflict_and_writes_nothing(desk):
    claim = claim_in(desk, ClaimStatus.RECEIVED)
    manager = desk.users[Role.ASP_MANAGER]
    stale = claim.version
    engine.apply("validate", claim, manager)
    fresh = Claim.get_by_id(claim.id)
    with pytest.raises(Conflict, match="modificata da un altro utente"):
        engine.apply("mark_incomplete", fresh, manager, version=stale, missing=["doc:mandato"])
    with pytest.raises(Conflict):  # an object read before the change, used after it
        engine.apply("assign", Claim(**{**fresh.__data__, "status": ClaimStatus.VALIDATED, "version": stale}),
                     manager, lawyer=desk.lawyer.id)
    assert Claim.get_by_id(claim.id).version == fresh.version


def test_a_failure_inside_the_transaction_leaves_nothing_behind(desk, monkeypatch):
    claim = claim_in(desk, ClaimStatus.RECEIVED)
    history, emails = StatusChange.select().count(), OutboundEmail.select().count()

    def broken(*args, **kwargs):
        raise RuntimeError("template rotto")
    monkeypatch.setattr(notify, "_render", broken)
    with pytest.raises(RuntimeError):
        engine.apply("validate", claim, desk.users[Role.ASP_MANAGER])
    assert Claim.get_by_id(claim.id).status == ClaimStatus.RECEIVED
    assert (StatusChange.select().count(), OutboundEmail.select().count()) == (history, emails)


def test_each_change_emails_every_linked_party_once(desk):
    claim = claim_in(desk, ClaimStatus.ASSIGNED)
    before = OutboundEmail.select().count()
    engine.apply("file_claim", claim, desk.users[Role.LAWYER], **data_for(desk, "file_claim"))
    new = list(OutboundEmail.select().where(OutboundEmail.id > 0).order_by(OutboundEmail.id.desc()).limit(10))
    new = new[:OutboundEmail.select().count() - before]
    assert sorted(e.recipients for e in new) == sorted([desk.repairer.email, desk.centre.email, desk.lawyer.email])
    email = new[0]
    assert email.subject == f"Pratica {claim.number}: richiesta danni inviata alla compagnia"
    assert "da «Affidata» a «Richiesta inviata»" in email.body
    assert f"/admin/claim/details/?id={claim.id}" in email.body


def test_the_incomplete_email_lists_the_missing_items(desk):
    claim = new_claim(desk)
    engine.apply("mark_incomplete", claim, desk.users[Role.ASP_MANAGER],
                 missing=["doc:mandato", "data:insurer"], note="Firmare a pagina 2")
    email = OutboundEmail.select().where(OutboundEmail.recipients == desk.repairer.email) \
        .order_by(OutboundEmail.id.desc()).first()
    assert "il mandato firmato dal cliente" in email.body and "la compagnia debitrice" in email.body
    assert "Firmare a pagina 2" in email.body


def test_of_two_concurrent_transitions_exactly_one_wins(desk):
    claim = claim_in(desk, ClaimStatus.VALIDATED)
    manager, admin = desk.users[Role.ASP_MANAGER], desk.users[Role.ADMIN]
    barrier = threading.Barrier(2)
    results = []

    def act(event, user, **data):
        with db.connection_context():
            mine = Claim.get_by_id(claim.id)
            barrier.wait()
            try:
                engine.apply(event, mine, user, **data)
                results.append(("won", event))
            except Conflict:
                results.append(("lost", event))

    threads = [threading.Thread(target=act, args=("assign", manager), kwargs={"lawyer": desk.lawyer.id}),
               threading.Thread(target=act, args=("drop", admin), kwargs={"reason": "duplicate"})]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[0] for r in results) == ["lost", "won"]
    winner = next(event for outcome, event in results if outcome == "won")
    saved = Claim.get_by_id(claim.id)
    assert saved.status == {"assign": ClaimStatus.ASSIGNED, "drop": ClaimStatus.DROPPED}[winner]
    assert StatusChange.select().where(StatusChange.claim == claim, StatusChange.event.in_(["assign", "drop"])).count() == 1


def test_back_to_validation_is_offered_only_once_nothing_is_missing(desk):
    claim = new_claim(desk, documents=("denuncia", "mandato", "cessione_credito", "richiesta_danni"))
    claim = engine.apply("mark_incomplete", claim, desk.users[Role.ASP_MANAGER], missing=["doc:documento_identita"])
    manager = desk.users[Role.ASP_MANAGER]
    assert "complete" not in [t.event for t in engine.available(claim, manager)]  # it could only fail
    store_attachment(claim, "documento_identita", "ci.pdf", PDF, storage_dir=desk.app.config["STORAGE_DIR"])
    assert "complete" in [t.event for t in engine.available(Claim.get_by_id(claim.id), manager)]
