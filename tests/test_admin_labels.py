"""Every grid speaks Italian: its column headers, its details page, its filters and its history events."""
from __future__ import annotations

import html
import re

from flask_admin.contrib.peewee import ModelView

from models import ClaimStatus, ContactChange, InsurerAlias, IntakeEvent, QueueLimit, Role, StatusChange
from workflows import engine

from .conftest import login
from .test_workflows import TODAY, claim_in, desk  # noqa: F401 - fixtures and builders


def _raw_label(name: str) -> str:
    """What Flask-Admin or peewee shows for a column nobody named: "Locked Until"."""
    return re.sub(r"_+", " ", name).title()


ITALIAN_TOO = {"Note", "Email", "Pec", "Id"}  # a raw label that also reads as Italian ("Id" is never listed)


def _seeded(desk):
    """A row in every grid: parties, users, a claim with history, e-mails and an offer, limits, the intake log."""
    claim = claim_in(desk, ClaimStatus.FILED)
    engine.apply("record_offer", claim, desk.users[Role.LAWYER], amount="500", on_date=TODAY)
    QueueLimit.create(status="received", warning_days=3, breach_days=5)
    IntakeEvent.create(http_status=201, event="nuovo", wincar_user="X", claim=claim)
    InsurerAlias.create(key="generali", insurer=desk.insurer, name="Generali")
    ContactChange.create(party_type="repairer", party_id=desk.repairer.id, party_name=desk.repairer.name,
                         field="email", old_value="a@example.com", new_value="b@example.com", actor_label="Gessin")
    return claim


def test_every_grid_lists_details_and_filters_with_italian_labels(client, app, desk):
    _seeded(desk)
    login(client, desk.users[Role.ADMIN])
    views = [v for v in app.extensions["gessin_admin"].views_by_endpoint.values() if isinstance(v, ModelView)]
    found = []
    for view in views:
        listing = client.get(f"/admin/{view.endpoint}/" if view.url is None else f"{view.url}/")
        assert listing.status_code == 200, view.endpoint
        page = html.unescape(listing.get_data(as_text=True))
        headers = re.findall(r"<th[^>]*>\s*(?:<a[^>]*>)?\s*([^<]+?)\s*(?:<i|</a>|</th>)", page)
        details = []
        link = re.search(r'href="([^"]*/details/\?id=\d+[^"]*)"', page)
        if link:
            shown = client.get(link.group(1))
            assert shown.status_code == 200, view.endpoint
            details = re.findall(r"<td>\s*<b>\s*([^<]+?)\s*</b>", html.unescape(shown.get_data(as_text=True)))
        with app.test_request_context():
            filters = [str(flt.name) for flt in view.get_filters() or []]
        names = [f.name for f in view.model._meta.sorted_fields] + list(view.column_list or ())
        raw = {_raw_label(n) for n in names} | set(names)
        for label in headers + details + filters:
            if label in raw and label not in ITALIAN_TOO:
                found.append(f"{view.endpoint}: {label}")
        assert view.endpoint != "outbox" or details, "the outbox has a row to show"
    assert not found, sorted(set(found))


def test_the_history_grid_names_events_in_italian(client, desk):
    claim = _seeded(desk)
    for event in ("seguito", "insurer_mapped", "open"):
        StatusChange.create(claim=claim, actor_label="Gessin", event=event, to_status=claim.status)
    login(client, desk.users[Role.ADMIN])
    page = client.get("/admin/history/?page_size=100").get_data(as_text=True)
    cells = set(re.findall(r'<td class="col-event">\s*(.*?)\s*</td>', page, re.S))
    assert cells, "no event column"
    assert not {"seguito", "insurer_mapped", "open", "validate", "record_offer"} & cells, cells
    assert {"Seguito da WinCar", "Compagnia abbinata", "Pratica ricevuta", "Valida", "Registra offerta"} <= cells
