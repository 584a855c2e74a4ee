"""A body shop registers in a real browser, confirms its e-mail, and its ASP centre approves it."""
from __future__ import annotations

import re

import pytest

from models import OutboundEmail, PrivacyNotice, Repairer, Role

from .conftest import OUTPUT_DIR
from .test_browser import live_server, log_in, page  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def shot(page, name):
    OUTPUT_DIR.mkdir(exist_ok=True)
    path = OUTPUT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_a_body_shop_registers_confirms_and_is_approved_by_its_centre(live_server, page, f):
    PrivacyNotice.create(version=2, title="Informativa privacy RESTART", text="Trattiamo i vostri dati per ...")
    centre = f.centre(name="Centro ASP Toscana")
    f.centre(name="Centro ASP Umbria")
    manager = f.user(Role.ASP_MANAGER, asp_centre=centre)
    vat = f.vat_number()

    page.goto(f"{live_server}/login")
    page.get_by_role("link", name="Registra la tua carrozzeria").click()
    page.wait_for_url("**/registrazione")
    for field, value in (("#name", "Carrozzeria Firenze Sud"), ("#vat_number", vat), ("#fiscal_code", vat),
                         ("#address", "Via Senese 10, Firenze"), ("#email", "firenze.sud@example.it"),
                         ("#phone", "055 123456"), ("#contact_person", "Paolo Neri")):
        page.fill(field, value)
    page.select_option("#asp_centre", label="Centro ASP Toscana")
    trap = page.locator("#sito_web").bounding_box()  # the honeypot is off the page: not for people
    assert trap["x"] + trap["width"] < 0
    page.get_by_role("button", name="Invia la richiesta").click()
    page.wait_for_selector(".invalid-feedback")  # the privacy notice was not accepted
    assert "accettare l'informativa privacy" in page.inner_text("body")
    assert page.input_value("#name") == "Carrozzeria Firenze Sud"
    shot(page, "registration-refused")
    page.check("#privacy")
    page.get_by_role("button", name="Invia la richiesta").click()
    page.wait_for_selector("#registration-sent")
    shot(page, "registration-sent")

    body = OutboundEmail.get(OutboundEmail.recipients == "firenze.sud@example.it").body
    link = re.search(r"http://127\.0\.0\.1(/registrazione/conferma/\S+)", body).group(1)
    page.goto(f"{live_server}{link}")
    page.wait_for_selector("#registration-confirmed")
    shot(page, "registration-confirmed")

    log_in(page, live_server, manager)
    page.goto(f"{live_server}/admin/registration/")
    page.get_by_role("link", name="Carrozzeria Firenze Sud").click()
    page.wait_for_selector("#registration-request")
    shot(page, "registration-decide")
    page.click("#approve")
    page.wait_for_selector(".alert-success")
    assert "Approvata" in page.inner_text("#request-status")
    shot(page, "registration-approved")
    assert Repairer.get(Repairer.vat_number == vat).name == "Carrozzeria Firenze Sud"


def test_a_body_shop_finds_its_wincar_setup_and_regenerates_its_password(live_server, page, f):
    from models import RepairerCentre
    from workflows import credentials
    centre = f.centre(name="Centro ASP Liguria")
    repairer = f.repairer(name="Carrozzeria Genova")
    RepairerCentre.create(repairer=repairer, asp_centre=centre)
    credentials.issue(repairer, "GENOVA01", "password-wincar-genova")
    log_in(page, live_server, f.user(Role.REPAIRER, repairer=repairer))
    page.get_by_role("link", name="Configura WinCar").click()
    page.wait_for_selector("#wincar-steps")
    page.wait_for_load_state("load")  # the page's scripts, which ask before a data-confirm form goes, have run
    assert page.inner_text("#wincar-user") == "GENOVA01" and centre.vat_number in page.inner_text("#wincar-legali")
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))  # every one, in order
    page.click("#regenerate")
    page.wait_for_selector("#new-password")
    assert any("smetterà subito di funzionare" in message for message in asked), asked
    assert len(page.inner_text("#password-value")) == 16
    shot(page, "wincar-setup-regenerated")
