"""The claim form sets only the role's whitelist; a file changes hands only by the call centre's transfer."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from models import Claim, ClaimStatus, OutboundEmail, OutboundMessage, Role, StatusChange
from workflows import claim_edits, engine
from workflows.errors import InvalidData, NotAllowed

from .conftest import csrf_token, login
from .test_workflows import TODAY, claim_in  # noqa: F401 - builders

FORM = {"vehicle_count": 2, "vehicle_a_country": "I", "vehicle_b_country": "I", "accident_date": "01/10/2026",
        "vehicle_a_plate": "FG321HK"}  # what a claim entered by hand must say, besides its parties and customer


@pytest.fixture
def two(f, app):
    centre_a, centre_b = f.centre(name="Centro Alfa"), f.centre(name="Centro Beta")
    repairer_a, repairer_b = f.repairer(name="Carrozzeria Alfa"), f.repairer(name="Carrozzeria Beta")
    both = f.lawyer(centre_a, centre_b, name="Avv. Due Centri")
    only_a = f.lawyer(centre_a, name="Avv. Solo Alfa")
    f.claim(repairer_b, centre_a)  # Carrozzeria Beta works with Alfa too: a manager of Alfa sees it
    claim = f.claim(repairer_a, centre_a, lawyer=both, customer_name="Cliente Uno")
    return SimpleNamespace(
        f=f, app=app, centre_a=centre_a, centre_b=centre_b, repairer_a=repairer_a, repairer_b=repairer_b,
        both=both, only_a=only_a, claim=claim, insurer=f.insurer(),
        admin=f.user(Role.ADMIN, full_name="Call Center"),
        manager=f.user(Role.ASP_MANAGER, asp_centre=centre_a),
        lawyer=f.user(Role.LAWYER, lawyer=both),
    )


def edit(client, claim, **data):
    return client.post(f"/admin/claim/edit/?id={claim.id}", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), **FORM, **data})


def test_the_whitelist_has_no_workflow_intake_or_party_field():
    owned = {"status", "number", "version", "lawyer", "repairer", "asp_centre", "missing_items", "missing_note",
             "outcome_reason", "outcome_note", "wincar_ref", "possible_duplicates", "direct_compensation",
             "direct_compensation_reason", "wincar_assessment", "complete_since", "claim_filed_on", "closed_at",
             "source", "received_at", "status_since", "updated_at", "created_at"}
    for role in Role.ALL:
        user = SimpleNamespace(role=role, is_active=True)
        assert not owned & set(claim_edits.editable_fields(user)), role
    assert set(claim_edits.FORM_FIELDS) <= set(Claim._meta.fields)
    assert claim_edits.editable_fields(SimpleNamespace(role=Role.REPAIRER, is_active=True)) == ()


@pytest.mark.parametrize("who", ("manager", "lawyer"))
def test_posting_other_parties_to_the_edit_form_leaves_the_claim_where_it_was(client, two, who):
    login(client, getattr(two, who))
    form = client.get(f"/admin/claim/edit/?id={two.claim.id}").get_data(as_text=True)
    for name in ("repairer", "asp_centre", "lawyer"):
        assert f'name="{name}"' not in form, name
    response = edit(client, two.claim, customer_name="Nome Corretto", repairer=two.repairer_b.id,
                    asp_centre=two.centre_b.id, lawyer=two.only_a.id)
    assert response.status_code == 302
    saved = Claim.get_by_id(two.claim.id)
    assert (saved.repairer_id, saved.asp_centre_id, saved.lawyer_id) == (two.repairer_a.id, two.centre_a.id,
                                                                          two.both.id)
    assert saved.customer_name == "Nome Corretto"


def test_the_lawyer_records_what_the_letter_for_personal_injury_needs(client, two):
    login(client, two.lawyer)
    form = client.get(f"/admin/claim/edit/?id={two.claim.id}").get_data(as_text=True)
    assert "Danni alla persona" in form
    response = edit(client, two.claim, customer_name="Cliente Uno", customer_iban="IT42 L123 4512 3451 2345 6789 012",
                    injured_birth_date="20/03/1980", injured_occupation="impiegato", injured_income="32000,00",
                    injury_extent="trauma cervicale", art142_declaration="y")
    assert response.status_code == 302
    saved = Claim.get_by_id(two.claim.id)
    assert (saved.customer_iban, str(saved.injured_birth_date), saved.injured_occupation, str(saved.injured_income),
            saved.injury_extent, saved.art142_declaration) == (
        "IT42L1234512345123456789012", "1980-03-20", "impiegato", "32000.00", "trauma cervicale", True)
    bad = edit(client, two.claim, customer_name="Cliente Uno", customer_iban="IT42L1234512345123456789013")
    assert bad.status_code == 200 and "IBAN non valido" in bad.get_data(as_text=True)


def test_a_lawyer_of_two_centres_cannot_move_a_claim_to_its_other_centre(client, two):
    login(client, two.lawyer)
    response = edit(client, two.claim, customer_name="Nome Corretto", repairer=two.repairer_a.id,
                    asp_centre=two.centre_b.id)  # values it may see: the old form accepted them
    assert response.status_code == 302
    saved = Claim.get_by_id(two.claim.id)
    assert (saved.asp_centre_id, saved.customer_name) == (two.centre_a.id, "Nome Corretto")


def test_workflow_and_intake_fields_are_never_written_through_the_form(client, two):
    Claim.update(wincar_ref="WC-1", possible_duplicates="2026/000009").where(Claim.id == two.claim.id).execute()
    login(client, two.manager)
    form = client.get(f"/admin/claim/edit/?id={two.claim.id}").get_data(as_text=True)
    for name in ("missing_items", "missing_note", "outcome_reason", "outcome_note", "wincar_ref",
                 "possible_duplicates", "direct_compensation", "wincar_assessment"):
        assert f'name="{name}"' not in form, name
    assert "2026/000009" not in form
    edit(client, two.claim, customer_name="Cliente Uno", missing_items="[{", missing_note="x",
         outcome_reason="settled", outcome_note="y", wincar_ref="WC-FALSO", possible_duplicates="2026/000001",
         direct_compensation="y")
    saved = Claim.get_by_id(two.claim.id)
    assert (saved.missing_items, saved.missing_note, saved.outcome_reason, saved.outcome_note) == (None,) * 4
    assert (saved.wincar_ref, saved.possible_duplicates, saved.direct_compensation) == \
        ("WC-1", "2026/000009", two.claim.direct_compensation)


def test_a_manager_files_a_claim_only_for_its_own_centre(client, two):
    login(client, two.manager)
    before = Claim.select().count()
    response = client.post("/admin/claim/new/", data={
        "csrf_token": csrf_token(client, "/admin/claim/new/"), **FORM, "repairer": two.repairer_a.id,
        "asp_centre": two.centre_b.id, "customer_name": "Altrove"})
    assert response.status_code == 200 and Claim.select().count() == before


def test_a_claim_placed_by_hand_is_for_the_managers_centre_whatever_was_posted(two):
    claim = Claim(repairer=two.repairer_a, asp_centre=two.centre_b)
    claim_edits.place_new_claim(claim, two.manager)
    assert claim.asp_centre_id == two.centre_a.id
    with pytest.raises(NotAllowed):
        claim_edits.place_new_claim(Claim(repairer=two.f.repairer(), asp_centre=two.centre_a), two.manager)
    with pytest.raises(NotAllowed):
        claim_edits.place_new_claim(Claim(repairer=two.repairer_a, asp_centre=two.centre_a), two.lawyer)


def test_the_call_centre_files_a_claim_for_any_repairer_and_centre(client, two):
    login(client, two.admin)
    stranger = two.f.repairer(name="Carrozzeria Nuova")
    response = client.post("/admin/claim/new/", data={
        "csrf_token": csrf_token(client, "/admin/claim/new/"), **FORM, "repairer": stranger.id,
        "asp_centre": two.centre_b.id, "customer_name": "Nuovo Cliente"})
    assert response.status_code == 302
    claim = Claim.get(Claim.customer_name == "Nuovo Cliente")
    assert (claim.repairer_id, claim.asp_centre_id) == (stranger.id, two.centre_b.id)


# ---- the transfer event ----------------------------------------------------------------

def test_the_call_centre_transfers_a_claim_to_another_repairer_and_both_are_told(two):
    old_mail = two.repairer_a.email
    saved = engine.apply("transfer", two.claim, two.admin, repairer=two.repairer_b.id, note="Carrozzeria sbagliata")
    assert (saved.repairer_id, saved.asp_centre_id, saved.lawyer_id, saved.status) == \
        (two.repairer_b.id, two.centre_a.id, two.both.id, ClaimStatus.RECEIVED)
    last = StatusChange.select().where(StatusChange.claim == saved).order_by(StatusChange.id.desc()).first()
    assert last.event == "transfer" and "Carrozzeria sbagliata" in last.note and "Carrozzeria Beta" in last.note
    told = {e.recipients for e in OutboundEmail.with_message().where(OutboundMessage.subject.contains("pratica trasferita"))}
    assert told == {two.repairer_b.email, two.centre_a.email, two.both.email}  # the parties it has now
    away = list(OutboundEmail.with_message().where(OutboundMessage.subject.endswith("trasferita")))
    assert [e.recipients for e in away] == [old_mail]  # the party it left, told apart
    assert "Carrozzeria sbagliata" in away[0].body and "Carrozzeria Beta" not in away[0].body
    assert "/admin/claim/details/" not in away[0].body


def test_a_lawyer_of_both_centres_keeps_the_claim_when_its_centre_changes(two):
    claim = engine.apply("transfer", two.claim, two.admin, asp_centre=two.centre_b.id, note="Centro competente")
    assert (claim.asp_centre_id, claim.lawyer_id) == (two.centre_b.id, two.both.id)


def test_a_lawyer_of_the_old_centre_only_loses_the_claim_which_returns_to_validation(two):
    two.lawyer_a_only = two.f.user(Role.LAWYER, lawyer=two.only_a)
    Claim.update(lawyer=two.only_a, status=ClaimStatus.FILED).where(Claim.id == two.claim.id).execute()
    claim = Claim.get_by_id(two.claim.id)
    saved = engine.apply("transfer", claim, two.admin, asp_centre=two.centre_b.id, note="Centro competente")
    assert (saved.asp_centre_id, saved.lawyer_id, saved.status) == (two.centre_b.id, None, ClaimStatus.VALIDATED)
    told = {e.recipients for e in OutboundEmail.with_message().where(OutboundMessage.subject.contains("pratica trasferita"))}
    away = {e.recipients for e in OutboundEmail.with_message().where(OutboundMessage.subject.endswith("trasferita"))}
    assert (two.centre_b.email in told, away) == (True, {two.only_a.email, two.centre_a.email})
    assert engine.can("assign", saved, two.f.user(Role.ASP_MANAGER, asp_centre=two.centre_b))


def test_a_transfer_needs_a_reason_and_a_real_change(two):
    with pytest.raises(InvalidData):
        engine.apply("transfer", two.claim, two.admin, repairer=two.repairer_b.id, note=" ")
    with pytest.raises(InvalidData):
        engine.apply("transfer", two.claim, two.admin, repairer=two.repairer_a.id, note="nulla")
    with pytest.raises(InvalidData):
        engine.apply("transfer", two.claim, two.admin, repairer="abc", note="x")
    for junk in ("99999999999", 2**40, "-1", "1e3"):  # past PostgreSQL's integer range: never a query
        with pytest.raises(InvalidData):
            engine.apply("transfer", two.claim, two.admin, asp_centre=junk, note="x")
    assert Claim.get_by_id(two.claim.id).version == two.claim.version


@pytest.mark.parametrize("who", ("manager", "lawyer"))
def test_only_the_call_centre_may_transfer(client, two, who):
    user = getattr(two, who)
    assert not engine.can("transfer", two.claim, user)
    with pytest.raises(NotAllowed):
        engine.apply("transfer", two.claim, user, asp_centre=two.centre_b.id, note="mio")
    login(client, user)
    assert 'data-event="transfer"' not in client.get(f"/admin/claim/details/?id={two.claim.id}").get_data(as_text=True)
    client.post(f"/admin/claim/act/{two.claim.id}/transfer", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": two.claim.version,
        "asp_centre": two.centre_b.id, "repairer": two.repairer_b.id, "note": "mio"})
    saved = Claim.get_by_id(two.claim.id)
    assert (saved.repairer_id, saved.asp_centre_id) == (two.repairer_a.id, two.centre_a.id)


def test_the_call_centre_transfers_from_the_claim_page(client, two):
    login(client, two.admin)
    page = client.get(f"/admin/claim/details/?id={two.claim.id}").get_data(as_text=True)
    assert 'data-event="transfer"' in page and "Motivo del trasferimento" in page
    response = client.post(f"/admin/claim/act/{two.claim.id}/transfer", data={
        "csrf_token": csrf_token(client, "/admin/claim/"), "version": two.claim.version,
        "repairer": two.repairer_a.id, "asp_centre": two.centre_b.id, "note": "Centro competente"},
        follow_redirects=True)
    assert "Trasferisci pratica eseguita" in response.get_data(as_text=True)
    assert Claim.get_by_id(two.claim.id).asp_centre_id == two.centre_b.id


# ---- a malformed missing_items never breaks the claim page ---------------------------

@pytest.mark.parametrize("raw", ("non è json", '{"doc:mandato": 1}', '[{"x": 2}, "doc:mandato", 3]', '"doc:mandato"',
                                 "[]", "null"))
def test_the_claim_page_reads_a_malformed_missing_list(client, two, raw):
    Claim.update(status=ClaimStatus.INCOMPLETE, missing_items=raw).where(Claim.id == two.claim.id).execute()
    login(client, two.manager)
    response = client.get(f"/admin/claim/details/?id={two.claim.id}")
    assert response.status_code == 200
    if "doc:mandato" in raw and not raw.startswith("{"):
        assert "il mandato firmato dal cliente" in response.get_data(as_text=True)
