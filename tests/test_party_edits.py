"""Who may change a party's record, on every route, and the audit trail of contact addresses."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from models import (
    AspCentre,
    ContactChange,
    InsuranceCompany,
    Lawyer,
    LawyerCentre,
    OutboundEmail,
    OutboundMessage,
    Repairer,
    Role,
)
from workflows import party_edits
from workflows.errors import NotAllowed
from workflows.parties import ensure_own_desk

from .conftest import csrf_token, login


@pytest.fixture
def net(f, app):
    centre_a, centre_b = f.centre(name="Centro Alfa"), f.centre(name="Centro Beta")
    shared = f.lawyer(centre_a, centre_b, name="Avv. Condiviso", email="condiviso@example.it")
    only_a = f.lawyer(centre_a, name="Avv. Solo Alfa", email="soloalfa@example.it")
    repairer = f.repairer(name="Carrozzeria Alfa", email="carrozzeria@example.it")
    f.claim(repairer, centre_a)
    return SimpleNamespace(
        centre_a=centre_a, centre_b=centre_b, shared=shared, only_a=only_a, repairer=repairer,
        desk_a=ensure_own_desk(centre_a), insurer=f.insurer(name="Compagnia Uno", claims_email="uno@example.it"),
        admin=f.user(Role.ADMIN, full_name="Call Center"),
        manager=f.user(Role.ASP_MANAGER, asp_centre=centre_a, full_name="Resp. Alfa"),
        lawyer_user=f.user(Role.LAWYER, lawyer=shared),
        repairer_user=f.user(Role.REPAIRER, repairer=repairer),
    )


def lawyer_form(lawyer, **changes):
    data = {"name": lawyer.name, "kind": lawyer.kind, "email": lawyer.email, "pec": lawyer.pec or "",
            "tax_code": lawyer.tax_code or "", "active": "y"}
    data.update(changes)
    return data


def post_edit(client, endpoint, row_id, data):
    return client.post(f"/admin/{endpoint}/edit/?id={row_id}",
                       data={"csrf_token": csrf_token(client, f"/admin/{endpoint}/"), **data})


# ---- the rules, without HTTP ---------------------------------------------------------

def test_a_centre_edits_its_own_record_and_desk_and_no_other_party(net):
    manager = net.manager
    assert party_edits.editable_fields(manager, net.centre_a) == party_edits.OWN_CENTRE
    assert "vat_number" not in party_edits.OWN_CENTRE and "active" not in party_edits.OWN_CENTRE
    assert party_edits.editable_fields(manager, net.desk_a) == party_edits.OWN_DESK
    for other in (net.shared, net.only_a, ensure_own_desk(net.centre_b), net.centre_b, net.repairer, net.insurer):
        assert not party_edits.may_edit(manager, other), other


def test_a_lawyer_and_a_repairer_edit_only_their_own_record(net):
    assert party_edits.may_edit(net.lawyer_user, net.shared)
    assert not party_edits.may_edit(net.lawyer_user, net.only_a)
    assert party_edits.editable_fields(net.repairer_user, net.repairer) == party_edits.OWN_REPAIRER
    assert not party_edits.may_edit(net.repairer_user, net.centre_a)
    assert party_edits.may_edit(net.admin, net.shared) and party_edits.may_edit(net.admin, net.insurer)


def test_an_edit_outside_the_rules_is_refused_and_writes_nothing(net):
    with pytest.raises(NotAllowed):
        party_edits.update_party(net.shared, net.manager, {"email": "pirata@example.it"})
    assert Lawyer.get_by_id(net.shared.id).email == "condiviso@example.it"
    assert ContactChange.select().count() == 0


def test_fields_the_role_may_not_set_are_ignored(net):
    party_edits.update_party(net.centre_a, net.manager, {"vat_number": net.centre_b.vat_number, "active": False,
                                                        "phone": "06 1234"})
    saved = AspCentre.get_by_id(net.centre_a.id)
    assert (saved.vat_number, saved.active, saved.phone) == (net.centre_a.vat_number, True, "06 1234")


def test_a_changed_address_is_audited_with_who_and_the_old_address_is_told(net):
    old = net.centre_a.email
    party_edits.update_party(net.centre_a, net.manager, {"email": "nuovo.alfa@example.it", "pec": "alfa@pec.it"})
    rows = {r.field: r for r in ContactChange.select()}
    assert set(rows) == {"email", "pec"}
    assert (rows["email"].old_value, rows["email"].new_value, rows["email"].actor_id, rows["email"].party_type,
            rows["email"].party_id) == (old, "nuovo.alfa@example.it", net.manager.id, "asp_centre", net.centre_a.id)
    assert rows["pec"].old_value is None and rows["email"].actor_label == "Resp. Alfa"
    notices = list(OutboundEmail.with_message().where(OutboundMessage.subject.contains("Recapito modificato")))
    assert [n.recipients for n in notices] == [old]  # the old address; a PEC that was empty is told nothing
    assert "nuovo.alfa@example.it" in notices[0].body and "Resp. Alfa" in notices[0].body


def test_an_unchanged_address_writes_no_audit_row(net):
    party_edits.update_party(net.insurer, net.admin, {"name": "Compagnia Uno Spa", "claims_email": "uno@example.it"})
    assert ContactChange.select().count() == 0
    party_edits.update_party(net.insurer, net.admin, {"claims_email": "sinistri@uno.it"})
    row = ContactChange.get()
    assert (row.party_type, row.field, row.old_value, row.new_value) == ("insurer", "claims_email",
                                                                        "uno@example.it", "sinistri@uno.it")


def test_the_audit_trail_is_append_only(net):
    party_edits.update_party(net.repairer, net.repairer_user, {"email": "nuova@example.it"})
    row = ContactChange.get()
    row.new_value = "altro@example.it"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete_instance()


# ---- through the admin -----------------------------------------------------------------

@pytest.mark.parametrize("lawyer_name", ("shared", "only_a"))
def test_a_manager_cannot_rewrite_a_lawyer_of_its_centre(client, net, lawyer_name):
    lawyer = getattr(net, lawyer_name)
    login(client, net.manager)
    assert client.get(f"/admin/lawyer/edit/?id={lawyer.id}").status_code == 403
    response = post_edit(client, "lawyer", lawyer.id,
                         lawyer_form(lawyer, name="Rinominato", email="pirata@example.it", active=""))
    assert response.status_code == 403
    saved = Lawyer.get_by_id(lawyer.id)
    assert (saved.name, saved.email, saved.active) == (lawyer.name, lawyer.email, True)
    assert ContactChange.select().count() == 0


def test_the_lawyer_list_shows_a_manager_the_pencil_only_on_its_own_desk(client, net):
    login(client, net.manager)
    page = client.get("/admin/lawyer/").get_data(as_text=True)
    assert f"/admin/lawyer/edit/?id={net.desk_a.id}" in page
    assert f"/admin/lawyer/edit/?id={net.shared.id}" not in page
    assert f"/admin/lawyer/edit/?id={net.only_a.id}" not in page


def test_a_manager_edits_its_own_desk_and_the_change_is_audited(client, net):
    login(client, net.manager)
    form = client.get(f"/admin/lawyer/edit/?id={net.desk_a.id}").get_data(as_text=True)
    assert 'name="email"' in form and 'name="kind"' not in form and 'name="centres"' not in form
    response = post_edit(client, "lawyer", net.desk_a.id,
                         lawyer_form(net.desk_a, email="sportello@example.it", kind="lawyer", active=""))
    assert response.status_code == 302
    saved = Lawyer.get_by_id(net.desk_a.id)
    assert (saved.email, saved.kind, saved.active) == ("sportello@example.it", "centre_desk", True)
    assert ContactChange.get().new_value == "sportello@example.it"


def test_a_manager_edits_its_centre_but_not_its_vat_number_nor_another_centre(client, net):
    login(client, net.manager)
    response = post_edit(client, "aspcentre", net.centre_a.id, {
        "name": "Centro Alfa Srl", "vat_number": net.centre_b.vat_number, "email": "alfa@example.it", "active": ""})
    assert response.status_code == 302
    saved = AspCentre.get_by_id(net.centre_a.id)
    assert (saved.name, saved.vat_number, saved.active, saved.email) == \
        ("Centro Alfa Srl", net.centre_a.vat_number, True, "alfa@example.it")
    assert client.get(f"/admin/aspcentre/edit/?id={net.centre_b.id}").status_code == 404
    post_edit(client, "aspcentre", net.centre_b.id, {"name": "Preso", "email": "pirata@example.it"})
    assert AspCentre.get_by_id(net.centre_b.id).email == net.centre_b.email


@pytest.mark.parametrize("endpoint", ("repairer", "insurer"))
def test_a_manager_edits_no_repairer_and_no_insurer(client, net, endpoint):
    row = net.repairer if endpoint == "repairer" else net.insurer
    login(client, net.manager)
    assert client.get(f"/admin/{endpoint}/edit/?id={row.id}").status_code == 403
    post_edit(client, endpoint, row.id, {"name": "Preso", "email": "pirata@example.it",
                                         "claims_email": "pirata@example.it"})
    assert Repairer.get_by_id(net.repairer.id).email == "carrozzeria@example.it"
    assert InsuranceCompany.get_by_id(net.insurer.id).claims_email == "uno@example.it"


def test_a_lawyer_edits_its_own_address_only(client, net):
    login(client, net.lawyer_user)
    response = post_edit(client, "lawyer", net.shared.id, lawyer_form(net.shared, email="studio@example.it",
                                                                       active=""))
    assert response.status_code == 302
    saved = Lawyer.get_by_id(net.shared.id)
    assert (saved.email, saved.active) == ("studio@example.it", True)
    assert [link.asp_centre_id for link in LawyerCentre.select().where(LawyerCentre.lawyer == net.shared)
            .order_by(LawyerCentre.asp_centre)] == [net.centre_a.id, net.centre_b.id]  # its centres untouched
    assert client.get(f"/admin/lawyer/edit/?id={net.only_a.id}").status_code == 404


def test_a_repairer_edits_its_contacts_not_its_name_or_vat_number(client, net):
    login(client, net.repairer_user)
    response = post_edit(client, "repairer", net.repairer.id, {
        "name": "Altro Nome", "vat_number": net.centre_b.vat_number, "email": "officina@example.it",
        "phone": "06 999", "active": ""})
    assert response.status_code == 302
    saved = Repairer.get_by_id(net.repairer.id)
    assert (saved.name, saved.vat_number, saved.email, saved.phone, saved.active) == \
        ("Carrozzeria Alfa", net.repairer.vat_number, "officina@example.it", "06 999", True)
    assert ContactChange.get().actor_id == net.repairer_user.id


def test_the_call_centre_edits_a_shared_lawyer_and_the_trail_shows_it(client, net):
    login(client, net.admin)
    response = post_edit(client, "lawyer", net.shared.id, {**lawyer_form(net.shared, email="nuovo@example.it"),
                                                           "centres": [net.centre_a.id]})
    assert response.status_code == 302
    assert Lawyer.get_by_id(net.shared.id).email == "nuovo@example.it"
    assert [link.asp_centre_id for link in LawyerCentre.select().where(LawyerCentre.lawyer == net.shared)] == \
        [net.centre_a.id]
    page = client.get("/admin/contactchange/").get_data(as_text=True)
    assert "Modifiche recapiti" in page and "condiviso@example.it" in page and "nuovo@example.it" in page


@pytest.mark.parametrize("who", ("manager", "lawyer_user", "repairer_user"))
def test_only_the_call_centre_reads_the_trail(client, net, who):
    party_edits.update_party(net.repairer, net.repairer_user, {"email": "nuova@example.it"})
    row = ContactChange.get()
    login(client, getattr(net, who))
    assert client.get("/admin/contactchange/").status_code == 403
    assert client.get(f"/admin/contactchange/details/?id={row.id}").status_code == 403
    assert client.get("/admin/contactchange/export/csv/").status_code == 403


def test_a_manager_takes_a_lawyer_off_its_centre_and_nothing_else(client, net):
    login(client, net.manager)
    response = client.post("/admin/lawyer/action/", data={
        "csrf_token": csrf_token(client, "/admin/lawyer/"), "action": "leave_centre",
        "rowid": [net.shared.id, ensure_own_desk(net.centre_b).id]})
    assert response.status_code == 302
    links = [link.asp_centre_id for link in LawyerCentre.select().where(LawyerCentre.lawyer == net.shared)]
    assert links == [net.centre_b.id]
    assert Lawyer.get_by_id(net.shared.id).email == "condiviso@example.it"


def test_a_lawyer_cannot_take_itself_off_a_centre(client, net):
    login(client, net.lawyer_user)
    client.post("/admin/lawyer/action/", data={
        "csrf_token": csrf_token(client, "/admin/lawyer/"), "action": "leave_centre", "rowid": [net.shared.id]})
    assert LawyerCentre.select().where(LawyerCentre.lawyer == net.shared).count() == 2
