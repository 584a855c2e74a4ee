"""Every route of the app, for every role, with every kind of id that is not the user's.

The routes come from the app's URL map, not from a list kept by hand: a new route is
swept as soon as it exists, and a route whose arguments this file cannot fill fails
`test_every_route_is_known_to_the_scope_sweep` until it is taught here. For each role
(and for a visitor not logged in) each route is called with the ids of the other
side's rows (claims, attachments, payments, e-mails, history rows, parties, users,
bulk jobs, intake log rows), by GET and, where the route takes it, by POST with a
valid CSRF token. Whatever the route answers, it must never:

- answer 5xx;
- show anything of the other side (every text of theirs carries the marker "ZZB");
- change, add or remove a row that belongs to or points at the other side.

The other side is a second ASP centre with its own repairer, lawyer, users and claim.
Positive controls check that the same routes do open the user's own rows, so the
sweep cannot pass by calling routes the wrong way.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlencode

import peewee as pw
import pytest

from models import (
    ALL_MODELS,
    Attachment,
    BulkJob,
    Claim,
    ClaimDossier,
    ClaimsOfficeSending,
    DeadlineReminder,
    IntakeEvent,
    OutboundEmail,
    Payment,
    PrivacyNotice,
    RegistrationRequest,
    Repairer,
    RepairerCentre,
    Role,
    StatusChange,
    User,
)
from workflows import checklist, clock, credentials, engine
from workflows.attachments import store_attachment
from workflows.transitions import TRANSITIONS

from .conftest import csrf_token, login

PDF = b"%PDF-1.4 documento di prova"
MARKER = "zzb"  # in every text of the other side, compared lower-case
SEARCH = "quercia"  # also in the other side's names: searched for, so that an echo of the search is no leak

# Routes that are public or carry no data of anyone's (the rest of the app is swept).
PUBLIC_ENDPOINTS = {"static", "admin.static", "root", "auth.login", "auth.logout", "auth.set_language",
                    "api.docs_page", "api.openapi_json",
                    # a body shop's registration, and the e-mailed links (their tests: test_registration.py)
                    "onboarding.register", "onboarding.confirm", "onboarding.set_password",
                    "onboarding.forgot_password"}
# Flask-Admin's own endpoints of a model view.
MODEL_VIEW_ENDPOINTS = {"index_view", "details_view", "edit_view", "create_view", "delete_view", "action_view",
                        "ajax_lookup", "ajax_update", "export"}
# URL arguments of our own routes, and the model whose foreign ids fill them.
ID_ARGUMENTS = {"claim_id": Claim, "attachment_id": Attachment, "job_id": BulkJob,
                "request_id": RegistrationRequest, "repairer_id": Repairer, "dossier_id": ClaimDossier}
OTHER_ARGUMENTS = {"event": tuple(TRANSITIONS), "export_type": ("csv",)}

ROLES = ("asp_manager", "lawyer", "repairer", "visitor")
# CSP nonces and CSRF tokens: random, so they are not the other side's data
RANDOM_TOKENS = re.compile(r'nonce="[^"]*"|name="csrf_token"[^>]*>')


@pytest.fixture
def world(f, app):
    storage = app.config["STORAGE_DIR"]
    centre_a = f.centre(name="Centro Alfa", email="alfa@example.it")
    repairer_a = f.repairer(name="Carrozzeria Alfa")
    lawyer_a = f.lawyer(centre_a, name="Avv. Alfa")
    centre_b = f.centre(name="Centro ZZB Quercia", email="centro-zzb@example.it", pec="pec-zzb@example.it")
    repairer_b = f.repairer(name="Carrozzeria ZZB Quercia", email="carrozzeria-zzb@example.it", address="Via ZZB 1")
    lawyer_b = f.lawyer(centre_b, name="Avv. ZZB Quercia", email="legale-zzb@example.it")
    users = {
        "admin": f.user(Role.ADMIN, login="callcenter-alfa"),
        "asp_manager": f.user(Role.ASP_MANAGER, asp_centre=centre_a, login="asp-alfa"),
        "lawyer": f.user(Role.LAWYER, lawyer=lawyer_a, login="legale-alfa"),
        "repairer": f.user(Role.REPAIRER, repairer=repairer_a, login="carrozzeria-alfa"),
    }
    theirs = {
        "asp_manager": f.user(Role.ASP_MANAGER, asp_centre=centre_b, login="asp-zzb", full_name="Gestore ZZB"),
        "lawyer": f.user(Role.LAWYER, lawyer=lawyer_b, login="legale-zzb", full_name="Legale ZZB"),
        "repairer": f.user(Role.REPAIRER, repairer=repairer_b, login="carrozzeria-zzb", full_name="Officina ZZB"),
    }
    mine = f.claim(repairer_a, centre_a, lawyer=lawyer_a, customer_name="Cliente Alfa")
    their_claims = [f.claim(repairer_b, centre_b, lawyer=lawyer_b, customer_name="Cliente ZZB Quercia",
                            notes="Note ZZB", wincar_ref="WINCAR-ZZB")]
    their_claims.append(_in_recovery(f.claim(repairer_b, centre_b, customer_name="Cliente ZZB due",
                                             accident_date=dt.date(2026, 1, 1), insurer=f.insurer()),
                                     theirs["asp_manager"], lawyer_b, storage))
    for claim in their_claims:
        store_attachment(claim, "denuncia", "denuncia-zzb.pdf", PDF, storage_dir=storage)
    Payment.create(claim=their_claims[1], kind="offer", amount=Decimal("100.00"), on_date=dt.date(2026, 1, 5),
                   note="Offerta ZZB")
    BulkJob.create(user=theirs["asp_manager"], event="validate", claim_ids=str(their_claims[0].id), total=1,
                   skipped='[["ZZB", "motivo ZZB"]]', status="failed", error="errore ZZB")  # one their user may resume
    IntakeEvent.create(http_status=201, wincar_user="WINCAR-ZZB", wincar_ref="WINCAR-ZZB",
                       claim=their_claims[0], payload='{"customer": "ZZB"}')
    notice = PrivacyNotice.create(version=5, title="Informativa", text="Testo")
    for centre, name in ((centre_b, "Carrozzeria ZZB Richiedente"), (centre_a, "Carrozzeria Alfa Richiedente")):
        RegistrationRequest.create(name=name, vat_number=f.vat_number(), fiscal_code=f.vat_number(),
                                   address="Via Richiesta 1", email="richiesta@example.it", phone="02 1",
                                   contact_person="Referente", asp_centre=centre, privacy_notice=notice,
                                   privacy_accepted_at=dt.datetime(2026, 1, 1), status="pending")
    RepairerCentre.create(repairer=repairer_b, asp_centre=centre_b)
    # a PEC of theirs to a claims office, sent and waiting for its delivery receipt
    ClaimsOfficeSending.create(claim=their_claims[1], kind="pec", address="sinistri-zzb@pec.example.it",
                               files_claim=True, accepted_at=dt.datetime(2026, 1, 2, 9))
    for claim in their_claims:  # a ready dossier of theirs, its files on disk
        _ready_dossier(claim, theirs["asp_manager"], storage)
    DeadlineReminder.create(claim=their_claims[0], kind="queue", due_on=dt.date(2026, 1, 3), level="overdue",
                            recipient=f"lawyer:{lawyer_b.id}", found_on=dt.date(2026, 1, 4))
    my_doc = store_attachment(mine, "denuncia", "denuncia-alfa.pdf", PDF, storage_dir=storage)
    my_job = BulkJob.create(user=users["asp_manager"], event="validate", claim_ids=str(mine.id), total=1,
                            status="failed")
    # In the deadline queues on both sides: their filed claim is overdue (its offer was due in
    # March), their new one and my own are set due soon and overdue (test data).
    today = clock.today()
    Claim.update(next_due_on=today + dt.timedelta(days=2), next_warn_on=today) \
        .where(Claim.id == their_claims[0].id).execute()
    Claim.update(next_due_on=today - dt.timedelta(days=1), next_warn_on=today - dt.timedelta(days=8)) \
        .where(Claim.id == mine.id).execute()
    return SimpleNamespace(users=users, theirs=theirs, mine=mine, my_doc=my_doc, my_job=my_job,
                           their_claims=their_claims, lawyer_b=lawyer_b, repairer_a=repairer_a,
                           other_side=_other_side())


def _ready_dossier(claim, manager, storage):
    from workflows import dossier
    row, _queued = dossier.request(claim, manager)
    return dossier.build(row.id, storage)


def _in_recovery(claim, manager, lawyer, storage):
    """A claim of the other side with every document, entrusted and filed (offers go on it)."""
    for kind in checklist.required_documents():
        store_attachment(claim, kind, f"{kind}-zzb.pdf", PDF, storage_dir=storage)
    claim = engine.apply("validate", Claim.get_by_id(claim.id), manager)
    claim = engine.apply("assign", claim, manager, lawyer=lawyer.id)
    return engine.apply("file_claim", claim, manager, filed_on=dt.date(2026, 1, 2), note="Richiesta ZZB")


def _other_side() -> dict[type, set[int]]:
    """Ids of every row of the other side: rows with the marker, and rows that point at them."""
    rows: dict[type, set[int]] = {model: set() for model in ALL_MODELS}
    for model in ALL_MODELS:
        texts = [f for f in model._meta.sorted_fields if isinstance(f, (pw.CharField, pw.TextField))]
        if texts:
            marked = model.select(model._meta.primary_key).where(
                pw.reduce(lambda a, b: a | b, [pw.fn.LOWER(f).contains(MARKER) for f in texts]))
            rows[model] |= {row[0] for row in marked.tuples()}
    changed = True
    while changed:  # what points at the other side's rows is theirs too
        changed = False
        for model in ALL_MODELS:
            for fk in model._meta.refs:
                ids = rows.get(fk.rel_model)
                if not ids:
                    continue
                found = {row[0] for row in model.select(model._meta.primary_key).where(fk.in_(ids)).tuples()}
                if not found <= rows[model]:
                    rows[model] |= found
                    changed = True
    return rows


def _fingerprint(other_side: dict[type, set[int]]) -> str:
    """A digest of every row of the other side, and of every row pointing at it (new ones too)."""
    digest = hashlib.sha256()
    for model in ALL_MODELS:
        clause = None
        if other_side[model]:
            clause = model._meta.primary_key.in_(other_side[model])
        for fk in model._meta.refs:
            if other_side.get(fk.rel_model):
                part = fk.in_(other_side[fk.rel_model])
                clause = part if clause is None else clause | part
        if clause is None:
            continue
        for row in model.select().where(clause).order_by(model._meta.primary_key).tuples():
            digest.update(repr((model.__name__, row)).encode())
    return digest.hexdigest()


def _admin(app):
    return app.extensions["gessin_admin"]


def _foreign_ids(world, model) -> list[int]:
    """The other side's ids of `model`, or an id nobody has when it has none (e.g. queue limits)."""
    return sorted(world.other_side.get(model) or ()) or [987654]


def _own_ids(world, model) -> list[int]:
    """Rows of `model` that are not the other side's (a few: the user's own among them)."""
    query = model.select(model._meta.primary_key).order_by(model._meta.primary_key).limit(3)
    if world.other_side.get(model):
        query = query.where(model._meta.primary_key.not_in(world.other_side[model]))
    return [row[0] for row in query.tuples()]


def _generic_form(world, model=None) -> dict:
    """Values a hostile form post would carry: the other side's parties in every picker."""
    data = {"note": "nota zzhack", "reason": "other", "amount": "100", "on_date": "2026-01-10",
            "filed_on": "2026-01-10", "lawyer": world.lawyer_b.id, "missing": "doc:denuncia",
            "customer_name": "zzhack", "name": "zzhack", "email": "zzhack@example.it",
            "sending": min(world.other_side.get(ClaimsOfficeSending) or [987654]), "delivered_on": "10/01/2026"}
    if model is not None:
        for fk in model._meta.refs:
            ids = world.other_side.get(fk.rel_model)
            if ids:
                data[fk.name] = min(ids)
    return data


def _requests(app, world):
    """(method, url, form data) for every route of the app, with the other side's ids."""
    views = _admin(app).views_by_endpoint
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint == "api.post_claim":
            continue
        view_name, _, function = rule.endpoint.partition(".")
        view = views.get(view_name)
        model = getattr(view, "model", None)
        methods = sorted(rule.methods & {"GET", "POST"})
        for values in _argument_values(world, rule):
            base = rule.build(values, append_unknown=False)[1]
            if model is None or function not in MODEL_VIEW_ENDPOINTS:
                # a route of our own: its URL names its rows, else it may read them from ?id= or the form
                ids = _foreign_ids(world, model) if model is not None and not values else [None]
                for method in methods:
                    for pk in ids:
                        query = f"?{urlencode({'id': pk})}" if pk is not None else ""
                        form = _generic_form(world, model) | ({"id": pk, "rowid": pk} if pk is not None else {})
                        yield method, base + query, form
                continue
            yield from _model_view_requests(world, view, model, function, base)


def _argument_values(world, rule):
    if not rule.arguments:
        yield {}
        return
    choices = {}
    for name in rule.arguments:
        if name in ID_ARGUMENTS:
            choices[name] = _foreign_ids(world, ID_ARGUMENTS[name])
        elif name in OTHER_ARGUMENTS:
            choices[name] = OTHER_ARGUMENTS[name]
        else:
            raise AssertionError(f"{rule.rule}: the scope sweep cannot fill <{name}>: teach it in "
                                 f"tests/test_route_scope.py (ID_ARGUMENTS) which rows it takes")
    combos = [{}]
    for name, options in choices.items():
        combos = [{**c, name: o} for c in combos for o in options]
    yield from combos


def _model_view_requests(world, view, model, function, base):
    ids = _foreign_ids(world, model)
    form = _generic_form(world, model)
    if function == "index_view":
        yield "GET", base, None
        yield "GET", base + "?" + urlencode({"search": SEARCH}), None
    elif function == "export":
        yield "GET", base, None
    elif function == "create_view":
        yield "GET", base, None
        yield "POST", base, form
    elif function == "ajax_lookup":
        for field in [fk.name for fk in model._meta.refs] or ["name"]:
            yield "GET", base + "?" + urlencode({"name": field, "query": SEARCH}), None
    else:
        for pk in ids:
            if function in ("details_view", "edit_view"):
                yield "GET", base + "?" + urlencode({"id": pk}), None
            if function in ("edit_view", "delete_view"):
                yield "POST", base + "?" + urlencode({"id": pk}), form | {"id": pk}
            if function == "ajax_update":
                yield "POST", base, {"list_form_pk": pk, "name": "zzhack", "customer_name": "zzhack"}
        if function == "edit_view":  # the user's own rows, saved with the other side's parties picked
            for pk in _own_ids(world, model):
                yield "POST", base + "?" + urlencode({"id": pk}), form | {"id": pk}
        if function == "action_view":
            for name in _action_names(view):
                yield "POST", base, form | {"action": name, "rowid": ids}


def _action_names(view) -> list[str]:
    """Every action a view declares, whoever may run it (ours are all named `action_<name>`)."""
    return sorted(name.removeprefix("action_") for name in dir(type(view))
                  if name.startswith("action_") and name not in ("action_view", "action_form"))


def _call(client, token, method, url, form):
    if method == "GET":
        return client.get(url)
    data = dict(form or {})
    if token:
        data["csrf_token"] = token
    return client.post(url, data=data)


def _readable(response) -> str:
    """The answer's text, lower-case, without the random tokens (a nonce may well contain "zzb")."""
    if response.mimetype == "application/pdf":
        return ""
    return RANDOM_TOKENS.sub("", response.get_data(as_text=True)).lower()


def _log_in(client, world, role):
    if role == "visitor":
        return None
    login(client, world.users[role])
    return csrf_token(client, "/admin/")


def test_every_route_is_known_to_the_scope_sweep(app, world):
    requests = list(_requests(app, world))
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - PUBLIC_ENDPOINTS - {"api.post_claim"}
    swept = {app.url_map.bind("localhost").match(url.split("?")[0], method=method)[0]
             for method, url, _form in requests}
    assert endpoints - swept == set()
    assert len(requests) > 300  # every grid, queue, claim route and download, each with foreign ids


@pytest.mark.parametrize("role", ROLES)
def test_no_route_shows_or_changes_the_other_sides_rows(client, app, world, role):
    token = _log_in(client, world, role)
    before = _fingerprint(world.other_side)
    failures = []
    for method, url, form in _requests(app, world):
        response = _call(client, token, method, url, form)
        body = _readable(response)
        if response.status_code >= 500:
            failures.append(f"{method} {url}: HTTP {response.status_code}")
        elif MARKER in body or any(c.number in body for c in world.their_claims):
            where = body.find(MARKER)
            failures.append(f"{method} {url}: shows the other side's data: …{body[max(0, where - 60):where + 40]}…")
        elif response.mimetype == "application/pdf":
            failures.append(f"{method} {url}: serves the other side's document")
        if method == "POST":
            after = _fingerprint(world.other_side)
            if after != before:
                failures.append(f"{method} {url}: changed the other side's rows")
                before = after
        if role == "visitor" and response.status_code not in (302, 400, 401, 403, 404, 405):
            failures.append(f"{method} {url}: a visitor got HTTP {response.status_code}")
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("role", ("asp_manager", "lawyer", "repairer"))
def test_the_same_routes_open_the_users_own_rows(client, world, role):
    """The positive control: the sweep's URLs do reach real pages when the rows are the user's."""
    login(client, world.users[role])
    mine = world.mine
    page = client.get(f"/admin/claim/details/?id={mine.id}")
    assert page.status_code == 200 and "Cliente Alfa" in page.get_data(as_text=True)
    download = client.get(f"/admin/claim/attachment/{world.my_doc.id}")
    assert download.status_code == 200 and download.data == PDF
    opened = client.get(f"/admin/claim/attachment/{world.my_doc.id}/preview")
    assert opened.status_code == 200 and opened.data == PDF and opened.headers["Content-Disposition"].startswith("inline")
    export = client.get("/admin/claim/export/csv/")
    assert export.status_code == 200 and mine.number in export.get_data(as_text=True)
    history = client.get("/admin/history/").get_data(as_text=True)
    assert mine.number in history
    if role == "asp_manager":
        progress = client.get(f"/admin/claim/bulk/{world.my_job.id}")
        assert progress.status_code == 200
        resumed = client.post(f"/admin/claim/bulk/{world.my_job.id}/resume",
                              data={"csrf_token": csrf_token(client, "/admin/")})
        assert resumed.status_code == 302 and BulkJob.get_by_id(world.my_job.id).status == "queued"
        acted = client.post(f"/admin/claim/act/{mine.id}/mark_incomplete", data={
            "csrf_token": csrf_token(client, "/admin/"), "missing": "doc:denuncia", "version": mine.version})
        assert acted.status_code == 302
        assert Claim.get_by_id(mine.id).status == "incomplete"


DEADLINE_QUEUES = ("queue_due_soon", "queue_overdue")


def test_the_sweep_calls_every_route_of_the_deadline_queues(app, world):
    matched = {app.url_map.bind("localhost").match(url.split("?")[0], method=method)[0]
               for method, url, _form in _requests(app, world)}
    for queue in DEADLINE_QUEUES:
        assert {f"{queue}.{name}" for name in MODEL_VIEW_ENDPOINTS} & matched >= {
            f"{queue}.{name}" for name in ("index_view", "details_view", "edit_view", "export", "action_view")}


def test_the_deadline_queues_hold_the_other_sides_claims_that_the_sweep_must_not_show(client, world):
    """The sweep's control: the call centre sees their claims in both queues, each user only its own."""
    login(client, world.users["admin"])
    assert world.their_claims[0].number in client.get("/admin/queue/due-soon/").get_data(as_text=True)
    overdue = client.get("/admin/queue/overdue/").get_data(as_text=True)
    assert world.their_claims[1].number in overdue and world.mine.number in overdue
    assert 'data-queue="overdue">2<' in overdue
    for role in ("asp_manager", "lawyer", "repairer"):
        login(client, world.users[role])
        overdue = client.get("/admin/queue/overdue/").get_data(as_text=True)
        assert world.mine.number in overdue, role
        assert 'data-queue="overdue">1<' in overdue and 'data-queue="due-soon">0<' in overdue, role


def test_the_fingerprint_notices_a_change_of_the_other_side(world):
    """The sweep's change detector is not blind: a row edited, or added pointing at theirs, shows."""
    before = _fingerprint(world.other_side)
    Claim.update(notes="cambiata").where(Claim.id == world.their_claims[0].id).execute()
    assert _fingerprint(world.other_side) != before
    edited = _fingerprint(world.other_side)
    StatusChange.create(claim=world.their_claims[0], actor_label="intruso", event="validate", to_status="received")
    assert _fingerprint(world.other_side) != edited


def test_the_other_side_has_a_row_of_every_kind(world):
    kinds = (Claim, Attachment, Payment, OutboundEmail, StatusChange, User, BulkJob, IntakeEvent, RegistrationRequest,
             RepairerCentre, ClaimDossier, DeadlineReminder)
    assert [k.__name__ for k in kinds if not world.other_side[k]] == []


def test_wincar_cannot_reach_another_repairers_claim(client, world):
    """The API route: a seguito naming the other side's claim is refused and changes nothing."""
    user_id, password = credentials.issue(world.repairer_a, password="password-wincar-alfa-1")
    before = _fingerprint(world.other_side)
    from .test_intake import payload
    for key, value in (("number", world.their_claims[0].number), ("wincar_ref", "WINCAR-ZZB")):
        body = payload(world.mine.asp_centre, event="seguito", **{key: value})
        response = client.post("/api/v1/claims", json=body, auth=(user_id, password))
        assert response.status_code == 422
        assert MARKER not in response.get_data(as_text=True).lower()
    assert _fingerprint(world.other_side) == before
