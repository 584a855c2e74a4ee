"""The floor of the sweep benchmark (benchmarks/sweep_floor.py): it must write the rows our
sweep and digests write, or its ratio says nothing."""
from __future__ import annotations

from benchmarks.sweep_floor import clear_outcome, digests_floor, outcome, sweep_floor
from models import ClaimStatus, Lawyer, ReminderDue, Role, User, db
from workflows import reminders

from .test_reminders import DAY, D, deadline
from .test_workflows import claim_in, desk  # noqa: F401 - fixtures and builders


def due_rows() -> list[tuple]:
    return list(ReminderDue.select(ReminderDue.claim, ReminderDue.remind_on, ReminderDue.due_on,
                                   ReminderDue.warn_on).tuples())


def put_back(rows: list[tuple]) -> None:
    with db.atomic():
        ReminderDue.delete().execute()
        ReminderDue.insert_many(rows, fields=[ReminderDue.claim, ReminderDue.remind_on, ReminderDue.due_on,
                                              ReminderDue.warn_on]).execute()


def test_the_sweep_floor_writes_the_reminders_days_digests_and_emails_our_sweep_writes(desk):
    f = desk.f
    f.user(Role.ADMIN, email="turno2@example.it")
    User.update(email="turno1@example.it").where(User.id == desk.users[Role.ADMIN].id).execute()
    deadline(claim_in(desk, ClaimStatus.VALIDATED))  # warned: the centre
    deadline(claim_in(desk, ClaimStatus.FILED), kind="offer")  # warned: the lawyer
    on_desk = claim_in(desk, ClaimStatus.ASSIGNED)
    on_desk.lawyer = Lawyer.get(Lawyer.own_centre == desk.centre)
    on_desk.save()
    deadline(on_desk, due_on=D - 2 * DAY, warn_on=D - 5 * DAY, remind_on=D - DAY)  # the breach: centre, call centre
    deadline(claim_in(desk, ClaimStatus.RECEIVED), due_on=D - DAY, warn_on=None, remind_on=D - DAY)
    deadline(claim_in(desk, ClaimStatus.CLOSED), remind_on=D - DAY)  # closed: its day goes, nothing said
    deadline(claim_in(desk, ClaimStatus.VALIDATED), due_on=D + 20 * DAY, warn_on=D + 10 * DAY)  # not yet
    clear_outcome()
    loaded = due_rows()

    reminders.sweep(D)
    assert reminders.send_digests(D, digest_hour=0) == 3
    ours = outcome(D)
    clear_outcome()
    put_back(loaded)
    assert sweep_floor(D) == 6
    assert digests_floor(D) == 3

    assert outcome(D) == ours
    assert ours["waiting"] == 0 and ours["texts"] == 3 and len(ours["e-mails"]) == 4  # the call centre: two users


def test_the_sweep_floor_finds_nothing_the_second_time(desk):
    deadline(claim_in(desk, ClaimStatus.VALIDATED))
    assert sweep_floor(D) == 1
    assert sweep_floor(D) == 0
