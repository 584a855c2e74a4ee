"""The daily digest of deadline reminders (workflows/reminder_digests.py): one e-mail per
recipient and day, listing all its claims, from the configured hour, capped."""
from __future__ import annotations

import datetime as dt
import logging

from models import Claim, ClaimStatus, DeadlineReminder, OutboundEmail, ReminderDigest, Role, User
from workflows import clock, reminders
from workflows.reminder_digests import digest_for

from .test_reminders import DAY, D, deadline
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures and builders


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.ROME)


def mails() -> dict[str, list[OutboundEmail]]:
    found: dict[str, list[OutboundEmail]] = {}
    for row in OutboundEmail.select().where(OutboundEmail.claim.is_null()).order_by(OutboundEmail.id):
        found.setdefault(row.recipients, []).append(row)
    return found


def remind(day: dt.date, hour: int = 8, **options) -> int:
    reminders.sweep(today=day)
    return reminders.send_digests(day, now=at(day, hour), **options)


def test_one_email_per_recipient_lists_all_its_claims_and_the_call_centre_only_the_breaches(desk):
    f = desk.f
    other = f.centre(name="Centro Beta")
    ours = [deadline(claim_in(desk, ClaimStatus.VALIDATED)) for _ in range(2)]
    late = deadline(claim_in(desk, ClaimStatus.RECEIVED), due_on=D - 2 * DAY, warn_on=D - 4 * DAY)
    lawyers = [deadline(claim_in(desk, ClaimStatus.FILED), kind="offer") for _ in range(2)]
    theirs = deadline(f.claim(f.repairer(), other))
    second_admin = f.user(Role.ADMIN, email="turno2@example.it")
    User.update(email="turno1@example.it").where(User.id == desk.users[Role.ADMIN].id).execute()
    f.user(Role.ADMIN, email="ex@example.it", active=False)

    assert remind(D - DAY) == 4  # two centres, the lawyer, the call centre
    got = mails()
    assert set(got) == {desk.centre.email, other.email, desk.lawyer.email, "turno1@example.it",
                        second_admin.email}
    assert all(len(rows) == 1 for rows in got.values())
    centre_mail = got[desk.centre.email][0]
    assert centre_mail.subject == "Gessin: 1 pratica scaduta e 2 in scadenza"
    for claim in ours + [late]:
        assert claim.number in centre_mail.body and f"/admin/claim/details/?id={claim.id}" in centre_mail.body
    assert "scaduta da 1 giorno" in centre_mail.body and "scade domani" in centre_mail.body
    assert "Tempo di permanenza nello stato: 10/03/2027" in centre_mail.body
    assert "(Validata)" in centre_mail.body and "http://127.0.0.1/admin/queue/overdue/" in centre_mail.body
    assert centre_mail.body.index(late.number) < centre_mail.body.index(ours[0].number)  # the breach first
    law = got[desk.lawyer.email][0]
    assert law.subject == "Gessin: 2 pratiche in scadenza"
    assert all(c.number in law.body for c in lawyers) and "Offerta della compagnia" in law.body
    assert "http://127.0.0.1/admin/queue/due-soon/" in law.body
    assert theirs.number in got[other.email][0].body and theirs.number not in centre_mail.body
    call = got["turno1@example.it"][0]
    assert call.subject == "Gessin: 1 pratica scaduta" and call.body == got[second_admin.email][0].body
    assert late.number in call.body and not any(c.number in call.body for c in ours + lawyers + [theirs])
    digests = {d.recipient: d for d in ReminderDigest.select()}
    assert digests[f"centre:{desk.centre.id}"].reminders == 3 and digests["callcentre"].reminders == 1
    assert DeadlineReminder.select().where(DeadlineReminder.digest.is_null()).count() == 0


def test_a_second_run_the_same_day_sends_nothing_and_a_later_reminder_waits_for_tomorrow(desk):
    deadline(claim_in(desk, ClaimStatus.VALIDATED))
    assert remind(D - DAY) == 1
    assert remind(D - DAY, hour=9) == 0
    late_comer = deadline(claim_in(desk, ClaimStatus.VALIDATED), due_on=D + DAY, warn_on=D - DAY)
    assert remind(D - DAY, hour=18) == 0  # found today, after today's digest
    waiting = DeadlineReminder.get(DeadlineReminder.claim == late_comer.id)
    assert waiting.digest_id is None
    assert remind(D, hour=7) == 1
    [_first, second] = mails()[desk.centre.email]
    assert late_comer.number in second.body and second.subject == "Gessin: 1 pratica in scadenza"


def test_digests_wait_for_the_configured_hour_rome_time(desk):
    deadline(claim_in(desk, ClaimStatus.VALIDATED))
    reminders.sweep(today=D - DAY)
    assert reminders.send_digests(D - DAY, now=at(D - DAY, 6, 59)) == 0
    assert ReminderDigest.select().count() == 0
    assert reminders.send_digests(D - DAY, now=at(D - DAY, 8), digest_hour=9) == 0
    utc_seven = at(D - DAY, 7).astimezone(dt.timezone.utc)  # 06:00 UTC in winter: 07:00 in Rome
    assert reminders.send_digests(D - DAY, now=utc_seven) == 1


def test_a_long_digest_lists_the_first_lines_and_counts_the_rest_with_the_queue_link(desk):
    claims = [deadline(claim_in(desk, ClaimStatus.VALIDATED)) for _ in range(5)]
    assert remind(D - DAY, cap=3) == 1
    [mail] = mails()[desk.centre.email]
    listed = [c for c in claims if c.number in mail.body]
    assert len(listed) == 3 and mail.subject == "Gessin: 5 pratiche in scadenza"
    assert "... e altre 2." in mail.body and "Tutte le pratiche in scadenza: http://127.0.0.1/admin/queue/due-soon/" \
        in mail.body


def test_a_reminder_whose_deadline_moved_before_the_digest_is_not_listed(desk):
    moved, kept = (deadline(claim_in(desk, ClaimStatus.VALIDATED)) for _ in range(2))
    reminders.sweep(today=D - DAY)
    Claim.update(next_due_on=D + 30 * DAY).where(Claim.id == moved.id).execute()  # the term moved meanwhile
    assert reminders.send_digests(D - DAY, now=at(D - DAY, 8)) == 1
    [mail] = mails()[desk.centre.email]
    assert kept.number in mail.body and moved.number not in mail.body
    assert mail.subject == "Gessin: 1 pratica in scadenza"


def test_the_warning_is_not_listed_beside_the_breach_of_the_same_deadline(desk):
    User.update(email="turno@example.it").where(User.role == Role.ADMIN).execute()
    claim = deadline(claim_in(desk, ClaimStatus.VALIDATED))
    reminders.sweep(today=D - DAY)  # the warning; no digest went out (the worker was down)
    reminders.sweep(today=D + DAY)  # the breach
    assert reminders.send_digests(D + DAY, now=at(D + DAY, 8)) == 2
    [mail] = mails()[desk.centre.email]
    assert mail.body.count(claim.number) == 1 and mail.subject == "Gessin: 1 pratica scaduta"


def test_without_an_active_admin_address_the_call_centre_digest_is_logged(desk, caplog):
    User.update(email=None).where(User.role == Role.ADMIN).execute()
    deadline(claim_in(desk, ClaimStatus.VALIDATED))
    with caplog.at_level(logging.WARNING, logger="gessin.workflows"):
        assert remind(D + DAY) == 1  # the centre's
    assert "callcentre" in caplog.text and "no e-mail address" in caplog.text
    assert set(mails()) == {desk.centre.email}
    assert ReminderDigest.get(ReminderDigest.recipient == "callcentre").email_id is None


def test_a_second_worker_meets_the_digest_of_the_day_and_skips(desk):
    deadline(claim_in(desk, ClaimStatus.VALIDATED))
    reminders.sweep(today=D - DAY)
    recipient = f"centre:{desk.centre.id}"
    assert digest_for(recipient, D - DAY) == "sent"
    DeadlineReminder.update(digest=None).execute()  # as if the second worker had read them before the first attached
    assert digest_for(recipient, D - DAY) == "taken"
    assert len(mails()[desk.centre.email]) == 1


def test_a_digest_that_fails_leaves_the_others_and_its_reminders_wait_for_the_next_run(desk, monkeypatch):
    from workflows import notify
    other = desk.f.centre(name="Centro Beta")
    deadline(claim_in(desk, ClaimStatus.VALIDATED))
    deadline(desk.f.claim(desk.f.repairer(), other))
    reminders.sweep(today=D - DAY)
    real = notify.render

    def failing(template, **context):
        if context["name"] == "Centro Alfa":
            raise RuntimeError("template broken")
        return real(template, **context)
    monkeypatch.setattr(notify, "render", failing)
    assert reminders.send_digests(D - DAY, now=at(D - DAY, 8)) == 1
    assert set(mails()) == {other.email}
    assert ReminderDigest.select().where(ReminderDigest.recipient == f"centre:{desk.centre.id}").count() == 0
    monkeypatch.setattr(notify, "render", real)
    assert reminders.send_digests(D - DAY, now=at(D - DAY, 9)) == 1
    assert set(mails()) == {other.email, desk.centre.email}
