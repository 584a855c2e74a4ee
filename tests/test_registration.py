"""A body shop registers, confirms its e-mail, is approved and sends its first claim.

The whole path runs against a real SMTP server (aiosmtpd) through the outbox and the
huey queue: the links and the credentials a test uses are those read from the
e-mails the server received.
"""
from __future__ import annotations

import re
import time

import pytest

from models import OutboundEmail, OutboundMessage, PrivacyNotice, RegistrationRequest, Repairer, RepairerCentre, Role, User
from workflows import access, claim_edits, links, registration

from .conftest import csrf_token, login
from .test_mail import mail_app, queue, run_queued, smtp, worker_app  # noqa: F401 - fixtures

CONFIRM_LINK = re.compile(r"http://127\.0\.0\.1(/registrazione/conferma/\S+)")
PASSWORD_LINK = re.compile(r"http://127\.0\.0\.1(/password/\S+)")


@pytest.fixture
def notice(f):
    return PrivacyNotice.create(version=3, title="Informativa privacy", text="Testo dell'informativa, versione 3.")


def form(f, centre, notice, **overrides) -> dict:
    vat = f.vat_number()
    data = {"name": "Carrozzeria Nuova Srl", "vat_number": vat, "fiscal_code": vat, "address": "Via Roma 1, Milano",
            "email": "officina@example.it", "pec": "officina@pec.example.it", "phone": "02 1234567",
            "contact_person": "Anna Bianchi", "asp_centre": str(centre.id), "privacy": "1",
            "privacy_version": str(notice.version)}
    data.update(overrides)
    return data


def register(client, data):
    return client.post("/registrazione", data={**data, "csrf_token": csrf_token(client, "/registrazione")})


def mails(smtp, subject_part):
    return [m for m in smtp.messages if subject_part in m.subject]


def test_a_body_shop_registers_is_approved_and_sends_a_claim_with_the_emailed_credentials(
        client, f, notice, mail_app, smtp, queue):
    centre = f.centre(name="Centro ASP Lombardia")
    manager = f.user(Role.ASP_MANAGER, asp_centre=centre)
    data = form(f, centre, notice)

    sent = register(client, data)
    assert sent.status_code == 200 and "officina@example.it" in sent.get_data(as_text=True)
    run_queued()
    [confirmation] = mails(smtp, "Conferma l'indirizzo e-mail")
    assert confirmation.recipients == ("officina@example.it",)
    request_row = RegistrationRequest.get()
    assert (request_row.status, request_row.privacy_notice_id) == ("unconfirmed", notice.id)
    assert request_row.privacy_accepted_at is not None

    login(client, manager)  # before the confirmation the request reaches nobody
    assert "Carrozzeria Nuova Srl" not in client.get("/admin/registration/").get_data(as_text=True)

    confirmed = client.get(CONFIRM_LINK.search(confirmation.body).group(1))
    assert confirmed.status_code == 200 and "Indirizzo e-mail confermato" in confirmed.get_data(as_text=True)
    run_queued()
    [to_centre] = mails(smtp, "Nuova richiesta di registrazione")
    assert to_centre.recipients == (centre.email,)
    grid = client.get("/admin/registration/").get_data(as_text=True)
    assert "Carrozzeria Nuova Srl" in grid and "Da esaminare" in grid

    decided = client.post(f"/admin/registration/decide/{request_row.id}",
                          data={"decision": "approve", "csrf_token": csrf_token(client, "/admin/")})
    assert decided.status_code == 302
    repairer = Repairer.get(Repairer.vat_number == data["vat_number"])
    assert RepairerCentre.get(RepairerCentre.repairer == repairer).asp_centre_id == centre.id
    portal_user = User.get(User.repairer == repairer)
    assert portal_user.role == Role.REPAIRER and not portal_user.check_password("")

    run_queued()
    [credentials_mail] = mails(smtp, "Registrazione approvata")  # ONE e-mail: WinCar and the portal
    assert credentials_mail.recipients == ("officina@example.it",)
    body = credentials_mail.body
    user_id = re.search(r"UserID:\s+(\S+)", body).group(1)
    password = re.search(r"Password:\s+(\S+)", body).group(1)
    assert user_id == repairer.wincar_user and len(password) == 16
    assert centre.vat_number in body and "RESTART - Tutte" in body
    stored = OutboundEmail.with_message().where(OutboundMessage.subject == credentials_mail.subject).get()
    assert stored.status == "sent" and password not in stored.body  # stripped once sent

    from .test_intake import payload
    posted = client.post("/api/v1/claims", json=payload(centre), auth=(user_id, password))
    assert posted.status_code == 201, posted.get_data(as_text=True)

    # the portal password: chosen by the body shop from the e-mailed link, which then stops working
    link = PASSWORD_LINK.search(body).group(1)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    chosen = client.post(link, data={"password": "Officina-Nuova-2026", "repeat": "Officina-Nuova-2026",
                                     "csrf_token": csrf_token(client, link)})
    assert chosen.status_code == 302
    login(client, portal_user, "Officina-Nuova-2026")
    assert client.get(link).status_code == 410


def test_a_manager_can_open_files_for_an_affiliated_repairer_without_claims(f):
    centre, other = f.centre(), f.centre()
    repairer = f.repairer()
    manager = f.user(Role.ASP_MANAGER, asp_centre=centre)
    assert repairer.id not in [r.id for r in claim_edits.settable_repairers(manager)]
    RepairerCentre.create(repairer=repairer, asp_centre=centre)
    assert repairer.id in [r.id for r in claim_edits.settable_repairers(manager)]
    assert repairer.id not in [r.id for r in access.visible_repairers(f.user(Role.ASP_MANAGER, asp_centre=other))]
    repairer_user = f.user(Role.REPAIRER, repairer=repairer)
    assert [c.id for c in access.visible_centres(repairer_user)] == [centre.id]


def _pending_request(client, f, notice, centre, **overrides) -> RegistrationRequest:
    assert register(client, form(f, centre, notice, **overrides)).status_code == 200
    row = RegistrationRequest.select().order_by(RegistrationRequest.id.desc()).get()
    registration.confirm(links.make("confirm_registration", {"r": row.id, "e": row.email}))
    return RegistrationRequest.get_by_id(row.id)


def test_a_rejected_request_needs_a_reason_which_is_emailed(client, f, notice, mail_app, smtp, queue):
    centre = f.centre()
    row = _pending_request(client, f, notice, centre)
    admin = f.user(Role.ADMIN)
    login(client, admin)
    url = f"/admin/registration/decide/{row.id}"
    refused = client.post(url, data={"decision": "reject", "reason": " ", "csrf_token": csrf_token(client, "/admin/")})
    assert refused.status_code == 422 and "Scrivi il motivo del rifiuto" in refused.get_data(as_text=True)
    done = client.post(url, data={"decision": "reject", "reason": "Partita IVA cessata",
                                  "csrf_token": csrf_token(client, "/admin/")})
    assert done.status_code == 302
    assert RegistrationRequest.get_by_id(row.id).status == "rejected"
    assert Repairer.select().where(Repairer.vat_number == row.vat_number).count() == 0
    run_queued()
    [rejected] = mails(smtp, "non accolta")
    assert rejected.recipients == (row.email,) and "Partita IVA cessata" in rejected.body
    again = client.post(url, data={"decision": "approve", "csrf_token": csrf_token(client, "/admin/")})
    assert again.status_code == 422 and Repairer.select().where(Repairer.vat_number == row.vat_number).count() == 0


def test_a_vat_number_already_registered_is_refused_without_saying_whose(client, f, notice):
    centre = f.centre()
    holder = f.repairer(name="Carrozzeria Segreta Spa")
    answer = register(client, form(f, centre, notice, vat_number=holder.vat_number, fiscal_code=holder.vat_number))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "già registrata sul portale" in page
    assert "Segreta" not in page and holder.email not in page
    assert RegistrationRequest.select().count() == 0

    pending = _pending_request(client, f, notice, centre)  # a request waiting for its decision holds it too
    second = register(client, form(f, centre, notice, vat_number=pending.vat_number, fiscal_code=pending.vat_number))
    assert second.status_code == 422 and "già registrata sul portale" in second.get_data(as_text=True)


def test_wrong_codes_and_a_missing_acceptance_are_each_said_by_their_field(client, f, notice):
    data = form(f, f.centre(), notice, vat_number="12345678901", fiscal_code="XYZ", email="non-un-indirizzo",
                privacy="", asp_centre="")
    page = register(client, data).get_data(as_text=True)
    for message in ("Partita IVA non valida", "Codice fiscale non valido", "Indirizzo e-mail non valido",
                    "accettare l&#39;informativa privacy", "Scegli il Centro ASP"):
        assert message in page
    assert 'value="Carrozzeria Nuova Srl"' in page  # every value as typed
    assert RegistrationRequest.select().count() == 0


def test_a_centre_id_past_the_id_range_is_a_field_error(client, f, notice):
    answer = register(client, form(f, f.centre(), notice, asp_centre="99999999999999999999"))
    assert answer.status_code == 422 and "Scegli il Centro ASP" in answer.get_data(as_text=True)


def test_a_notice_changed_while_filling_in_must_be_accepted_again(client, f, notice):
    data = form(f, f.centre(), notice)
    PrivacyNotice.create(version=4, title="Informativa privacy", text="Nuovo testo")
    answer = register(client, data)
    assert answer.status_code == 422 and "è stata aggiornata" in answer.get_data(as_text=True)


def test_the_honeypot_answers_as_if_sent_and_stores_nothing(client, f, notice):
    answer = register(client, form(f, f.centre(), notice, sito_web="http://spam.example"))
    assert answer.status_code == 200 and "abbiamo inviato" in answer.get_data(as_text=True)
    assert RegistrationRequest.select().count() == 0 and OutboundEmail.select().count() == 0


def test_requests_are_limited_per_address_and_per_vat_number(client, f, notice):
    centre = f.centre()
    for _ in range(registration.PER_ADDRESS):
        assert register(client, form(f, centre, notice)).status_code == 200
    over = register(client, form(f, centre, notice))
    assert over.status_code == 429 and "molte richieste" in over.get_data(as_text=True)

    vat = f.vat_number()
    for n in range(registration.PER_VAT_NUMBER):
        other = app_client(client, f"10.0.0.{n + 1}")
        assert register(other, form(f, centre, notice, vat_number=vat, fiscal_code=vat)).status_code == 200
    over = register(app_client(client, "10.0.0.99"), form(f, centre, notice, vat_number=vat, fiscal_code=vat))
    assert over.status_code == 429 and "partita IVA" in over.get_data(as_text=True)


def app_client(client, address):
    other = client.application.test_client()
    other.environ_base["REMOTE_ADDR"] = address
    return other


def test_confirmation_links_expired_reused_or_tampered_are_refused(client, f, notice):
    register(client, form(f, f.centre(), notice))
    row = RegistrationRequest.get()
    old = links.make("confirm_registration", {"r": row.id, "e": row.email},
                     issued_at=time.time() - links.MAX_AGE["confirm_registration"] - 60)
    expired = client.get(f"/registrazione/conferma/{old}")
    assert expired.status_code == 410 and "scaduto" in expired.get_data(as_text=True)
    assert RegistrationRequest.get_by_id(row.id).status == "unconfirmed"

    good = links.make("confirm_registration", {"r": row.id, "e": row.email})
    tampered = links.make("confirm_registration", {"r": row.id + 1, "e": row.email})[:-3] + good[-3:]
    assert client.get(f"/registrazione/conferma/{tampered}").status_code == 404
    wrong_purpose = links.make("reset_password", {"r": row.id, "e": row.email})
    assert client.get(f"/registrazione/conferma/{wrong_purpose}").status_code == 404
    assert client.get(f"/registrazione/conferma/{good}").status_code == 200
    reused = client.get(f"/registrazione/conferma/{good}")
    assert reused.status_code == 410 and "già stato usato" in reused.get_data(as_text=True)


def test_password_links_expired_reused_or_tampered_are_refused(client, f):
    from workflows import accounts
    user = f.user(Role.ADMIN, email="operatore@example.it")
    old = links.make("set_password", {"u": user.id, "s": links.fingerprint(user.session_token)},
                     issued_at=time.time() - links.MAX_AGE["set_password"] - 60)
    assert client.get(f"/password/{old}").status_code == 410
    link = accounts.password_link(user).removeprefix("http://127.0.0.1")
    tampered = link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB")
    assert client.get(tampered).status_code == 404
    common = client.post(link, data={"password": "password1", "repeat": "password1",
                                     "csrf_token": csrf_token(client, link)})
    assert common.status_code == 422 and "tra le più usate" in common.get_data(as_text=True)
    chosen = client.post(link, data={"password": "Ufficio-Sinistri-77", "repeat": "Ufficio-Sinistri-77",
                                     "csrf_token": csrf_token(client, link)})
    assert chosen.status_code == 302
    assert User.get_by_id(user.id).check_password("Ufficio-Sinistri-77")
    assert client.get(link).status_code == 410


def test_a_manager_sees_and_decides_only_the_requests_for_its_centre(client, f, notice):
    mine, theirs = f.centre(), f.centre()
    row = _pending_request(client, f, notice, theirs, name="Carrozzeria Altrui")
    login(client, f.user(Role.ASP_MANAGER, asp_centre=mine))
    assert "Carrozzeria Altrui" not in client.get("/admin/registration/").get_data(as_text=True)
    assert client.get(f"/admin/registration/decide/{row.id}").status_code == 404
    posted = client.post(f"/admin/registration/decide/{row.id}",
                         data={"decision": "approve", "csrf_token": csrf_token(client, "/admin/")})
    assert posted.status_code == 404 and RegistrationRequest.get_by_id(row.id).status == "pending"
    login(client, f.user(Role.REPAIRER, repairer=f.repairer()))
    assert client.get("/admin/registration/").status_code == 403


def test_migration_011_links_each_body_shop_to_the_centres_of_its_claims_and_opens_registration(f):
    from models import Claim, db
    from models.migrate import router
    repairer, centre, other = f.repairer(), f.centre(), f.centre()
    f.claim(repairer, centre)
    f.claim(repairer, centre)
    f.claim(repairer, other)
    migrations = router()
    while migrations.done[-1] != "011_onboarding":
        migrations.rollback()
    migrations.rollback()
    try:
        assert "repairer_centre" not in db.get_tables()
    finally:
        migrations.run()
    links_made = sorted((r.repairer_id, r.asp_centre_id) for r in RepairerCentre.select())
    assert links_made == sorted([(repairer.id, centre.id), (repairer.id, other.id)])
    assert Claim.select().count() == 3
    assert registration.current_notice().version == 1
