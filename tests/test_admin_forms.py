"""The grids' create and edit forms: every error by its field, in Italian; never the database's text."""
from __future__ import annotations

import re

import peewee as pw
import pytest

from models import AspCentre, QueueLimit, Repairer, Role, explain_integrity_error
from models.validators import InvalidValue

from .conftest import csrf_token, login

RAW = ("constraint failed", "UNIQUE", "CHECK", "duplicate key", "IntegrityError", "Failed to", "Record",
       "successfully", "con successo")


def _errors_by_field(page: str) -> dict[str, list[str]]:
    """Each input marked is-invalid, with the feedback messages that follow it."""
    found = {}
    for match in re.finditer(r'<(?:input|select|textarea)[^>]*class="[^"]*is-invalid[^"]*"[^>]*>', page):
        name = re.search(r'name="([^"]+)"', match.group(0)).group(1)
        rest = page[match.end():match.end() + 1500]
        found[name] = re.findall(r'<div class="invalid-feedback">\s*(?:<p>)?\s*([^<]+?)\s*(?:</p>)?\s*</div>', rest)[:1]
    return found


def _no_raw_text(page: str) -> None:
    for words in RAW:
        assert words not in page, words


@pytest.fixture
def admin(client, f):
    user = f.user(Role.ADMIN)
    login(client, user)
    return user


def _repairer_form(client, **values):
    data = {"csrf_token": csrf_token(client, "/admin/repairer/new/"), "name": "Carrozzeria Doppia",
            "vat_number": "", "email": "doppia@example.com", "active": "y"}
    data.update(values)
    return client.post("/admin/repairer/new/", data=data)


def test_a_second_repairer_with_the_same_vat_number_is_told_by_the_field(client, f, admin):
    first = f.repairer()
    response = _repairer_form(client, vat_number=first.vat_number, phone="06 999")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and Repairer.select().count() == 1
    _no_raw_text(page)
    assert "Esiste già una carrozzeria con questa partita IVA." in page
    assert 'is-invalid' in re.search(r'<input[^>]*name="vat_number"[^>]*>', page).group(0)
    assert 'value="06 999"' in page and 'value="Carrozzeria Doppia"' in page  # what was typed stays


def test_a_malformed_vat_number_is_shown_by_its_field_not_only_on_top(client, admin):
    page = _repairer_form(client, vat_number="12345678901").get_data(as_text=True)
    assert 'is-invalid' in re.search(r'<input[^>]*name="vat_number"[^>]*>', page).group(0)
    assert "Partita IVA non valida" in page
    _no_raw_text(page)


def test_a_queue_limit_whose_deadline_precedes_the_warning_is_told_in_italian(client, admin):
    response = client.post("/admin/queuelimit/new/", data={
        "csrf_token": csrf_token(client, "/admin/queuelimit/new/"), "status": "received",
        "warning_days": "10", "breach_days": "5"})
    page = response.get_data(as_text=True)
    _no_raw_text(page)
    assert 'is-invalid' in re.search(r'<input[^>]*name="breach_days"[^>]*>', page).group(0)
    assert "La scadenza non può venire prima del preavviso" in page
    assert QueueLimit.select().count() == 0


def test_three_wrong_fields_of_a_grid_form_are_told_at_once(client, admin):
    response = client.post("/admin/queuelimit/new/", data={
        "csrf_token": csrf_token(client, "/admin/queuelimit/new/"), "status": "nonsense",
        "warning_days": "dieci", "breach_days": "tre"})
    errors = _errors_by_field(response.get_data(as_text=True))
    assert set(errors) == {"status", "warning_days", "breach_days"}


def test_a_saved_record_is_said_in_plain_italian(client, admin):
    response = client.post("/admin/queuelimit/new/", data={
        "csrf_token": csrf_token(client, "/admin/queuelimit/new/"), "status": "received",
        "warning_days": "3", "breach_days": "5"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Scheda creata." in page
    _no_raw_text(page)


def test_the_database_refusal_of_a_duplicate_names_the_field_on_both_databases(f):
    """The last line, when two saves race past the check: the database's own error, explained."""
    first = f.centre()
    with pytest.raises(pw.IntegrityError) as caught:
        AspCentre.insert(name="Doppio", vat_number=first.vat_number, email="x@example.com").execute()
    explained = explain_integrity_error(AspCentre, caught.value)
    assert isinstance(explained, InvalidValue) and explained.field == "vat_number"
    assert str(explained.message) == "Esiste già un Centro ASP con questa partita IVA."


def test_the_database_refusal_of_a_check_is_a_sentence_not_the_sql(f):
    with pytest.raises(pw.IntegrityError) as caught:
        QueueLimit.insert(status="received", warning_days=10, breach_days=5).execute()
    explained = explain_integrity_error(QueueLimit, caught.value)
    assert "breach_days" not in str(explained.message) and "controlla i campi" in str(explained.message)
