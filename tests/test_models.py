"""The data model's own constraints, on the real database."""
from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal
from pathlib import Path

import peewee as pw
import pytest
from playhouse.shortcuts import model_to_dict

from models import (
    AspCentre,
    Attachment,
    Claim,
    ClaimStatus,
    InvalidValue,
    OutboundEmail,
    Payment,
    QueueLimit,
    Role,
    StatusChange,
    allocate_number,
    db,
    insert_row,
)


def test_a_malformed_vat_number_is_refused(f):
    with pytest.raises(InvalidValue) as error:
        AspCentre.create(name="Centro", vat_number="12345678901", email="a@example.it")
    assert error.value.field == "vat_number"
    assert "Partita IVA non valida" in str(error.value.message)
    assert AspCentre.select().count() == 0


def test_vat_numbers_are_unique(f):
    centre = f.centre()
    with pytest.raises(InvalidValue, match="Esiste già un Centro ASP con questa partita IVA") as caught:
        AspCentre.create(name="Copia", vat_number=centre.vat_number, email="b@example.it")
    assert caught.value.field == "vat_number"  # told before the database is asked
    with pytest.raises(pw.IntegrityError):  # and the database holds the line anyway
        with db.atomic():
            AspCentre.insert(name="Copia", vat_number=centre.vat_number, email="b@example.it").execute()


def test_a_wrong_fiscal_code_and_email_are_refused(f):
    with pytest.raises(InvalidValue, match="Codice fiscale"):
        f.repairer(fiscal_code="RSSMRA80A01H501X")
    with pytest.raises(InvalidValue, match="e-mail"):
        f.repairer(email="not-an-address")
    assert f.repairer(fiscal_code="RSSMRA80A01H501U").fiscal_code == "RSSMRA80A01H501U"


def test_plates_are_normalised_and_checked(f):
    claim = f.claim(f.repairer(), f.centre(), vehicle_a_plate="ab 123 cd", vehicle_b_plate="EF-456-GH")
    assert (claim.vehicle_a_plate, claim.vehicle_b_plate) == ("AB123CD", "EF456GH")
    with pytest.raises(InvalidValue, match="Targa"):
        f.claim(claim.repairer, claim.asp_centre, vehicle_a_plate="12-XYZ-??")


def test_portal_numbers_are_progressive_per_year(f):
    repairer, centre = f.repairer(), f.centre()
    first, second = f.claim(repairer, centre), f.claim(repairer, centre)
    year = first.received_at.year
    assert first.number == f"{year}/000001"
    assert second.number == f"{year}/000002"
    assert allocate_number(year + 1) == f"{year + 1}/000001"


def test_opening_a_claim_writes_its_first_history_row(f):
    admin = f.user()
    claim = f.claim(f.repairer(), f.centre(), actor=admin)
    rows = list(StatusChange.select().where(StatusChange.claim == claim))
    assert claim.status == ClaimStatus.RECEIVED
    assert [(r.from_status, r.to_status, r.actor_id) for r in rows] == [(None, "received", admin.id)]


def test_opening_a_claim_emails_repairer_and_centre_once_each_after_commit(f, monkeypatch):
    from workflows import notify
    handed = []
    monkeypatch.setattr(notify, "_dispatch", handed.extend)
    repairer, centre = f.repairer(), f.centre()
    claim = f.claim(repairer, centre)
    emails = {e.recipients: e for e in OutboundEmail.select().where(OutboundEmail.claim == claim)}
    assert set(emails) == {repairer.email, centre.email}
    assert "Conferma di avvenuta presa in carico" in emails[repairer.email].subject
    assert "Nuovo inserimento denuncia" in emails[centre.email].subject
    assert all(e.status == "pending" and e.attempts == 0 and e.next_attempt_at for e in emails.values())
    assert sorted(handed) == sorted(e.id for e in emails.values())
    shared = f.claim(f.repairer(email=centre.email), centre)  # one address for both: one e-mail
    assert OutboundEmail.select().where(OutboundEmail.claim == shared).count() == 1


def test_history_is_append_only(f):
    claim = f.claim(f.repairer(), f.centre())
    row = claim.history.get()
    row.note = "changed"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete_instance()


def test_a_wincar_reference_is_unique_per_repairer(f):
    repairer, other, centre = f.repairer(), f.repairer(), f.centre()
    f.claim(repairer, centre, wincar_ref="WC-1")
    f.claim(other, centre, wincar_ref="WC-1")
    with pytest.raises(pw.IntegrityError):
        with db.atomic():
            f.claim(repairer, centre, wincar_ref="WC-1")


def test_money_is_decimal_and_positive(f):
    claim = f.claim(f.repairer(), f.centre(), estimate_amount=Decimal("1234.56"))
    assert Claim.get_by_id(claim.id).estimate_amount == Decimal("1234.56")
    Payment.create(claim=claim, kind="offer", amount=Decimal("0.10"), on_date="2026-01-10")
    assert isinstance(Payment.get().amount, Decimal)
    with pytest.raises(pw.IntegrityError):
        with db.atomic():
            Payment.create(claim=claim, kind="offer", amount=Decimal("-1"), on_date="2026-01-10")
    with pytest.raises(InvalidValue):
        f.claim(claim.repairer, claim.asp_centre, claimed_amount=Decimal("-5"))


def test_queue_limits_check_their_days(f):
    QueueLimit.create(status="received", warning_days=1, breach_days=2)
    with pytest.raises(InvalidValue, match="La scadenza non può venire prima del preavviso") as caught:
        QueueLimit.create(status="validated", warning_days=3, breach_days=2)
    assert caught.value.field == "breach_days"  # told by its field, before the database is asked
    with pytest.raises(pw.IntegrityError):  # and the database holds the line anyway
        with db.atomic():
            QueueLimit.insert(status="validated", warning_days=3, breach_days=2).execute()


def test_a_user_is_linked_to_the_party_of_its_role(f):
    centre = f.centre()
    with pytest.raises(InvalidValue):
        f.user(role=Role.ASP_MANAGER)
    with pytest.raises(InvalidValue):
        f.user(role=Role.ADMIN, asp_centre=centre)
    manager = f.user(role=Role.ASP_MANAGER, asp_centre=centre)
    assert manager.check_password(f.PASSWORD)
    assert not manager.check_password("wrong")
    assert "password" not in manager.password_hash


def test_attachment_versions_are_unique_per_type(f, app):
    from workflows.attachments import storage_path, store_attachment
    claim = f.claim(f.repairer(), f.centre())
    pdf = b"%PDF-1.4 test"
    first = store_attachment(claim, "denuncia", "a.pdf", pdf, storage_dir=app.config["STORAGE_DIR"])
    second = store_attachment(claim, "denuncia", "b.pdf", pdf, storage_dir=app.config["STORAGE_DIR"])
    assert (first.version, second.version) == (1, 2)
    assert storage_path(app.config["STORAGE_DIR"], second.stored_name).read_bytes() == pdf
    with pytest.raises(ValueError):
        store_attachment(claim, "foto", "x.exe", b"MZ\x90\x00", storage_dir=app.config["STORAGE_DIR"])
    assert Attachment.select().count() == 2


def test_concurrent_intakes_never_share_a_number(f):
    repairer, centre = f.repairer(), f.centre()
    numbers, errors = [], []

    def open_one():
        try:
            with db.connection_context():
                numbers.append(f.claim(repairer, centre).number)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(numbers)) == 20


def _claim_data(f, **kw) -> dict:
    insurer = f.insurer(name="Assicurazioni Generali")
    data = dict(repairer=f.repairer(), asp_centre=f.centre(), customer_name="Mario Rossi",
                vehicle_a_plate="AB123CD", vehicle_b_plate="EF456GH", vehicle_a_insurer=insurer,
                accident_date=dt.date(2026, 10, 1), accident_time=dt.time(14, 30), injuries=True,
                injured_driver_a_only=None, disability_pct=Decimal("4.5"), estimate_amount=Decimal("1520.40"),
                missing_items='["denuncia"]', direct_compensation=False, received_at=dt.datetime(2026, 10, 2, 9, 15),
                status=ClaimStatus.RECEIVED, version=1, status_since=dt.datetime(2026, 10, 2, 9, 15),
                created_at=dt.datetime(2026, 10, 2, 9, 15, 30, 5))
    data.update(kw)
    return data


def test_a_row_written_by_insert_row_reads_back_as_peewees_own(f):
    data = _claim_data(f)
    prepared = Claim(number="2026/900001", wincar_ref="WC-1", **data)
    new_id = insert_row(prepared)
    assert new_id is not None and prepared.id == new_id
    own = Claim(number="2026/900002", wincar_ref="WC-2", **data)
    pw.Model.save(own, force_insert=True)  # peewee's path, node by node
    first, second = (model_to_dict(Claim.get_by_id(c.id), recurse=False) for c in (prepared, own))
    differ = {name for name in first if first[name] != second[name]}
    assert differ == {"id", "number", "wincar_ref", "updated_at"}, differ  # each stamped when built
    assert first["estimate_amount"] == Decimal("1520.40") and first["accident_time"] == dt.time(14, 30)


def test_insert_row_applies_the_models_defaults_and_returns_the_new_id(f):
    claim = f.claim(f.repairer(), f.centre())
    change = StatusChange(claim=claim, actor_label="WinCar", event="nota", to_status=claim.status)
    new_id = insert_row(change)
    saved = StatusChange.get_by_id(new_id)
    assert change.id == new_id and saved.at is not None and saved.created_at is not None
    assert insert_row(StatusChange(claim=claim, actor_label="WinCar", event="nota", to_status=claim.status)) > new_id


def test_a_failed_insert_row_leaves_the_instance_unsaved(f):
    claim = f.claim(f.repairer(), f.centre())
    copy = Claim(**{**model_to_dict(claim, recurse=False), "id": None, "wincar_ref": None})  # the same number
    with pytest.raises(pw.IntegrityError):
        with db.atomic():
            insert_row(copy)
    assert copy.id is None and Claim.select().count() == 1


PEEWEE_PRIVATE = re.compile(r"\._(pk|dirty|populate_unsaved_relations|returning|database|query_type)\b")


def test_no_module_of_ours_reads_peewees_private_attributes():
    """They change without notice on a peewee upgrade (`_meta` is peewee's documented model metadata)."""
    root = Path(__file__).resolve().parent.parent
    found = [f"{path.relative_to(root)}:{n}" for folder in ("models", "workflows", "admin_views", "intake_api",
                                                            "tasks", "commands", "benchmarks")
             for path in (root / folder).rglob("*.py")
             for n, line in enumerate(path.read_text().splitlines(), 1) if PEEWEE_PRIVATE.search(line)]
    assert found == []


def test_no_grid_reads_flask_admins_private_attributes():
    """Every `self._name` an admin view uses is one of ours: Flask-Admin's own caches
    (`_filters`, `_sortable_columns`, `_filter_args`...) are read through its public API."""
    root = Path(__file__).resolve().parent.parent / "admin_views"
    text = "\n".join(path.read_text() for path in root.rglob("*.py"))
    used = set(re.findall(r"(?:self|super\(\))\._([a-z]\w*)", text))
    ours = set(re.findall(r"def _([a-z]\w*)", text)) | set(re.findall(r"self\._([a-z]\w*)\s*(?::[^=\n]+)?=[^=]", text))
    assert sorted(used - ours) == []


FLASK_ADMIN_PRIVATE = re.compile(r"\._(views|list_columns|filters|sortable_columns|filter_args|search_fields)\b")


def test_no_benchmark_reads_flask_admins_private_attributes():
    """The benchmarks look up a grid's columns and filters as the views do, through
    Flask-Admin's public API (`get_list_columns`, `get_filters`, the app's view registry)."""
    root = Path(__file__).resolve().parent.parent / "benchmarks"
    found = [f"{path.name}:{n}" for path in root.rglob("*.py")
             for n, line in enumerate(path.read_text().splitlines(), 1) if FLASK_ADMIN_PRIVATE.search(line)]
    assert found == []
