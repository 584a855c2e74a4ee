"""Journeys a clerk takes, in a real headless Chromium against a live server."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from models import ClaimStatus, Role

from .conftest import OUTPUT_DIR

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="it-IT", timezone_id="Europe/Rome",  # where the users are
                                      viewport={"width": 1400, "height": 1000})
        yield context.new_page()
        browser.close()


def log_in(page, live_server, user, password=None):
    """Log in through the login page and wait until the portal has answered."""
    from .factories import PASSWORD
    page.goto(f"{live_server}/login")
    page.get_by_label("Nome utente").fill(user.login)
    page.get_by_label("Password").fill(password or PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url("**/admin/**")


def validated_claims(f, app, centre, manager, count):
    """`count` complete claims of `centre`, validated by `manager`, waiting to be entrusted."""
    import datetime as dt

    from workflows import engine
    from workflows.attachments import store_attachment
    from workflows.checklist import DEFAULT_REQUIRED_DOCUMENTS

    repairer, insurer = f.repairer(name="Carrozzeria Rossi"), f.insurer()
    claims = []
    for i in range(count):
        claim = f.claim(repairer, centre, insurer=insurer, accident_date=dt.date(2026, 10, 1),
                        customer_name=f"Cliente {i}")
        for kind in DEFAULT_REQUIRED_DOCUMENTS:
            store_attachment(claim, kind, f"{kind}.pdf", b"%PDF-1.4", storage_dir=app.config["STORAGE_DIR"])
        claims.append(engine.apply("validate", claim, manager))
    return claims


def advance(claim, status):
    """Put a test claim in a later state (test data only; the workflow owns real changes)."""
    from models import Claim
    Claim.update(status=status).where(Claim.id == claim.id).execute()


def test_an_asp_manager_filters_the_grid_and_opens_a_claim(live_server, page, f):
    own, other = f.centre(name="Centro Alfa"), f.centre(name="Centro Beta")
    repairer = f.repairer(name="Carrozzeria Rossi")
    mine = [f.claim(repairer, own, customer_name=f"Cliente Alfa {i}") for i in range(4)]
    theirs = f.claim(f.repairer(name="Carrozzeria Beta"), other, customer_name="Cliente Beta")
    for claim in mine[:2]:
        advance(claim, ClaimStatus.VALIDATED)
    advance(theirs, ClaimStatus.VALIDATED)
    manager = f.user(Role.ASP_MANAGER, asp_centre=own, login="manager.alfa")

    page.goto(f"{live_server}/admin/claim/")
    assert "/login" in page.url
    page.get_by_label("Nome utente").fill(manager.login)
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_url("**/admin/claim/**")
    grid = page.content()
    assert all(c.number in grid for c in mine)
    assert theirs.number not in grid and "Centro Beta" not in grid

    page.get_by_role("link", name="Aggiungi filtro").click()
    page.locator("a.filter", has_text="Stato").click()
    page.locator("td:has(select.filter-val) .select2-container").last.click()  # the value picker is a select2 box
    page.locator(".select2-result-label", has_text="Validata").click()
    page.get_by_role("button", name="Applica", exact=True).click()
    page.wait_for_url("**flt*")
    rows = page.locator("table.model-list tbody tr")
    assert rows.count() == 2
    for claim in mine[:2]:
        assert page.get_by_text(claim.number).count() == 1
    assert page.get_by_text(mine[2].number).count() == 0

    page.get_by_role("link", name=mine[0].number).click()
    page.wait_for_url("**/details/**")
    body = page.content()
    for label in ("Pratica", "Soggetti", "Cliente", "Sinistro (Modulo Blu)", "Veicolo A", "Allegati", "Storico",
                  "Validata", "Carrozzeria Rossi", mine[0].number, "Cliente Alfa 0"):
        assert label in body, label
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "asp-manager-claim.png"), full_page=True)
    assert (OUTPUT_DIR / "asp-manager-claim.png").stat().st_size > 10_000


def test_an_asp_manager_entrusts_three_claims_in_bulk(live_server, page, f, app):
    centre = f.centre(name="Centro Alfa")
    f.lawyer(centre, name="Avv. Giulia Neri")
    manager = f.user(Role.ASP_MANAGER, asp_centre=centre, login="manager.bulk")
    claims = validated_claims(f, app, centre, manager, 4)

    log_in(page, live_server, manager)
    page.goto(f"{live_server}/admin/queue/to-assign/")
    for claim in claims[:3]:
        page.locator(f"input.action-checkbox[value='{claim.id}']").check()
    page.locator("#bulk-action").select_option("assign")
    page.locator("#bulk-lawyer").select_option(label="Avv. Giulia Neri")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Applica alle selezionate").click()
    page.wait_for_load_state()
    assert "3 pratiche aggiornate" in page.content()
    assert page.locator("table.model-list tbody tr").count() == 1  # only the fourth is left to entrust

    page.get_by_role("link", name="Code di lavoro").click()
    page.get_by_role("link", name="Affidate").click()
    page.wait_for_url("**/admin/queue/assigned/**")
    text = page.content()
    for claim in claims[:3]:
        assert claim.number in text
    assert claims[3].number not in text and "Avv. Giulia Neri" in text
    OUTPUT_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT_DIR / "asp-manager-bulk-assigned.png"), full_page=True)


CSP_WATCH = """
document.addEventListener('securitypolicyviolation', function (e) {
  window.reportViolation(location.pathname + ': ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' '
                         + (e.sample || ''));
});
"""


def test_the_grid_and_the_claim_page_work_under_the_content_security_policy(live_server, page, f, app):
    """Filters (select2 and the date picker), bulk actions and the claim page's buttons, with no CSP violation."""
    centre = f.centre(name="Centro Alfa")
    f.lawyer(centre, name="Avv. Giulia Neri")
    manager = f.user(Role.ASP_MANAGER, asp_centre=centre, login="manager.csp")
    claims = validated_claims(f, app, centre, manager, 3)

    violations, reported = [], []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.expose_function("reportViolation", lambda text: reported.append(text))
    page.add_init_script(CSP_WATCH)
    log_in(page, live_server, manager)
    response = page.goto(f"{live_server}/admin/claim/")
    assert "nonce-" in response.headers["content-security-policy"]  # the policy is on, so silence means it holds

    # filters: the state through its select2 box, the received date through the date-range picker
    page.get_by_role("link", name="Aggiungi filtro").click()
    page.locator("a.filter", has_text="Stato").click()
    page.locator("td:has(select.filter-val) .select2-container").last.click()
    page.locator(".select2-result-label", has_text="Validata").click()
    page.get_by_role("link", name="Aggiungi filtro").click()
    page.locator("a.filter", has_text="Ricevuta").click()
    page.locator("input.filter-val[data-date-format]").last.click()
    picker = page.locator(".daterangepicker").last
    assert picker.is_visible()
    picker.locator("button.applyBtn").click()
    page.get_by_role("button", name="Applica", exact=True).click()
    page.wait_for_url("**flt*")
    assert page.locator("table.model-list tbody tr").count() == 3

    # bulk: one menu (our panel, not Flask-Admin's "Con la selezione"), and a confirmation naming what happens
    assert page.locator("a.dropdown-toggle", has_text="Con la selezione").count() == 0
    page.locator(f"input.action-checkbox[value='{claims[0].id}']").check()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.locator("#bulk-action").select_option("self_assign")
    page.get_by_role("button", name="Applica alle selezionate").click()
    page.locator(".alert", has_text="Auto-affida al centro: 1 pratica aggiornata").wait_for()
    assert dialogs == ["Affidare la pratica scelta al centro stesso, senza un legale?"]
    page.wait_for_load_state()  # the panel's script binds its buttons once the page has loaded: click after it

    # our bulk panel: an action with its parameter, on the ticked rows
    page.locator(f"input.action-checkbox[value='{claims[2].id}']").check()
    page.locator("#bulk-action").select_option("drop")
    page.locator("#bulk-reason").select_option("no_cover")
    page.get_by_role("button", name="Applica alle selezionate").click()
    page.locator(".alert", has_text="Senza seguito: 1 pratica aggiornata").wait_for()

    # the edit form's date picker
    page.goto(f"{live_server}/admin/claim/edit/?id={claims[1].id}")
    page.locator("input#accident_date").click()
    assert page.locator(".daterangepicker:visible").count() == 1

    # the claim page: a workflow button opens its form, which posts
    page.goto(f"{live_server}/admin/claim/details/?id={claims[1].id}")
    page.locator("button[data-event='assign']").click()
    page.locator("#act-assign.collapse.show").wait_for()  # opened, its animation over
    page.locator("#assign-lawyer").select_option(label="Avv. Giulia Neri")
    page.get_by_role("button", name="Conferma: Affida a un legale").click()
    page.locator(".alert", has_text="Stato: Affidata").wait_for()

    assert violations == [] and reported == [], (violations, reported)
