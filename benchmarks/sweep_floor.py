"""The floor of the sweep benchmark: the least SQL that writes the rows the reminder sweep
and the daily digests write, so benchmarks/sweep.py can print ours as a ratio to it.

Set-based statements written by hand, in one transaction each, on the app's connection:

- the sweep, 3 statements: one INSERT ... SELECT of the reminders of every due claim (the
  range scan of `reminder_due.remind_on`, the claim joined by primary key, its recipients
  and level worked out in SQL, ON CONFLICT DO NOTHING as ours), one DELETE of the reminder
  days that have nothing left to remind (the deadline past, or the claim closed), one
  UPDATE moving the others on to their next day;
- the digests, 6 statements: one SELECT of the waiting reminders' claims (the first 100 of
  each recipient, with the count), one of the recipients' addresses, one INSERT of the day's
  digests, one UPDATE attaching the reminders, one INSERT of the texts and one of their
  recipient rows, one UPDATE pointing each digest at its e-mail.

What it leaves out of ours: batches (ours commits every 1,000 claims and every 50 digests,
so a sweep never holds 20,000 rows locked), the template (the body is the claims'
numbers), the check that a line is still due when the digest is written, and the hand-off
of the e-mails to the task queue. Nothing of the app is imported but the connection.
"""
from __future__ import annotations

import datetime as dt
import hashlib

from models import db, is_postgres, utcnow

CENTRE_STATES = ("received", "incomplete", "validated")
LAWYER_STATES = ("assigned", "filed", "partially_reimbursed")
FINAL = ("reimbursed", "closed", "dropped", "cancelled")
CALL_CENTRE, OVERDUE, DUE_SOON = "callcentre", "overdue", "due_soon"
LINES = 100  # claims listed in one e-mail, as ours


def _quoted(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _text(column: str) -> str:
    return f"CAST({column} AS TEXT)"


def sweep_floor(today: dt.date) -> int:
    """The sweep's rows for `today`; returns the reminders recorded."""
    p, iso = db.param, today.isoformat()
    day_after = '"due_on" + 1' if is_postgres() else "date(\"due_on\", '+1 day')"
    told = (f"CASE WHEN c.\"status\" IN ({_quoted(CENTRE_STATES)}) THEN 'centre:' || {_text('c.asp_centre_id')} "
            f"WHEN l.\"own_centre_id\" IS NOT NULL THEN 'centre:' || {_text('l.own_centre_id')} "
            f"WHEN c.\"lawyer_id\" IS NOT NULL THEN 'lawyer:' || {_text('c.lawyer_id')} "
            f"ELSE 'centre:' || {_text('c.asp_centre_id')} END")
    level = (f"CASE WHEN r.\"due_on\" < {p} THEN '{OVERDUE}' "
             f"WHEN COALESCE(r.\"warn_on\", r.\"due_on\") <= {p} THEN '{DUE_SOON}' END")
    base = (f'SELECT r."claim_id", c."next_due_kind" AS kind, r."due_on", {level} AS level, {told} AS told '
            'FROM "reminder_due" AS r JOIN "claim" AS c ON c."id" = r."claim_id" '
            'LEFT JOIN "lawyer" AS l ON l."id" = c."lawyer_id" '
            f'WHERE r."remind_on" <= {p} AND c."next_due_on" IS NOT NULL AND c."next_due_kind" IS NOT NULL '
            f'AND c."status" IN ({_quoted(CENTRE_STATES + LAWYER_STATES)})')
    columns = '"claim_id", kind, "due_on", level'
    insert = ('INSERT INTO "deadline_reminder" ("created_at", "claim_id", "kind", "due_on", "level", "recipient", '
              f'"found_on") WITH due AS ({base}) SELECT {p}, "claim_id", kind, "due_on", level, recipient, {p} FROM ('
              f'SELECT {columns}, told AS recipient FROM due WHERE level IS NOT NULL '
              f"UNION ALL SELECT {columns}, '{CALL_CENTRE}' FROM due WHERE level = '{OVERDUE}') AS told "
              'WHERE true ON CONFLICT DO NOTHING')  # WHERE: SQLite's parser needs it before ON CONFLICT
    first = 'COALESCE("warn_on", "due_on")'
    with db.atomic():
        recorded = db.execute_sql(insert, [iso, iso, iso, utcnow().isoformat(" "), iso]).rowcount
        db.execute_sql(f'DELETE FROM "reminder_due" WHERE "remind_on" <= {p} AND ("due_on" < {p} OR EXISTS ('
                       'SELECT 1 FROM "claim" AS c WHERE c."id" = "reminder_due"."claim_id" AND '
                       f'(c."status" IN ({_quoted(FINAL)}) OR c."next_due_on" IS NULL)))', [iso, iso])
        db.execute_sql(f'UPDATE "reminder_due" SET "remind_on" = CASE WHEN {first} > {p} THEN {first} '
                       f'ELSE {day_after} END WHERE "remind_on" <= {p}', [iso, iso])
    return recorded


def _addresses() -> dict[str, list[str]]:
    rows = db.execute_sql(
        f'SELECT \'centre:\' || {_text("id")}, "email", 0 FROM "asp_centre" UNION ALL '
        f'SELECT \'lawyer:\' || {_text("id")}, "email", 0 FROM "lawyer" UNION ALL '
        f'SELECT \'{CALL_CENTRE}\', "email", "id" FROM "user" WHERE "role" = \'admin\' AND "active" = {db.param} '
        'AND "email" IS NOT NULL AND "email" <> \'\' ORDER BY 1, 3', [True]).fetchall()
    addresses: dict[str, list[str]] = {}
    for recipient, email, _order in rows:
        if email and email.lower() not in (a.lower() for a in addresses.setdefault(recipient, [])):
            addresses[recipient].append(email)
    return addresses


def digests_floor(today: dt.date) -> int:
    """The digests' rows for `today`; returns the digests e-mailed."""
    p, iso, now = db.param, today.isoformat(), utcnow()
    with db.atomic():
        rows = db.execute_sql(
            'SELECT "recipient", "number", total FROM (SELECT r."recipient", c."number", COUNT(*) OVER w AS total, '
            'ROW_NUMBER() OVER (w ORDER BY r."level" DESC, r."due_on", c."number") AS n '
            'FROM "deadline_reminder" AS r JOIN "claim" AS c ON c."id" = r."claim_id" WHERE r."digest_id" IS NULL '
            f'WINDOW w AS (PARTITION BY r."recipient")) AS lines WHERE n <= {p} ORDER BY "recipient", n',
            [LINES]).fetchall()
        if not rows:
            return 0
        lines: dict[str, list[str]] = {}
        totals: dict[str, int] = {}
        for recipient, number, total in rows:
            lines.setdefault(recipient, []).append(number)
            totals[recipient] = total
        recipients = sorted(lines)
        addresses = _addresses()
        digests = dict((recipient, digest_id) for digest_id, recipient in db.execute_sql(
            'INSERT INTO "reminder_digest" ("created_at", "recipient", "day", "reminders") VALUES '
            + ", ".join([f"({p}, {p}, {p}, {p})"] * len(recipients)) + ' RETURNING "id", "recipient"',
            [v for r in recipients for v in (now, r, iso, totals[r])]).fetchall())
        db.execute_sql(f'UPDATE "deadline_reminder" SET "digest_id" = (SELECT d."id" FROM "reminder_digest" AS d '
                       f'WHERE d."recipient" = "deadline_reminder"."recipient" AND d."day" = {p}) '
                       'WHERE "digest_id" IS NULL', [iso])
        mailed = [r for r in recipients if addresses.get(r)]
        if not mailed:
            return 0
        message_ids = sorted(row[0] for row in db.execute_sql(  # ids grow with the rows, as models.insert_rows
            'INSERT INTO "outbound_message" ("created_at", "subject", "body") VALUES '
            + ", ".join([f"({p}, {p}, {p})"] * len(mailed)) + ' RETURNING "id"',
            [v for r in mailed for v in (now, f"Scadenze del {iso}: {totals[r]} pratiche", "\n".join(lines[r]))]))
        emails = [(r, address, message_id) for r, message_id in zip(mailed, message_ids) for address in addresses[r]]
        email_ids = sorted(row[0] for row in db.execute_sql(
            'INSERT INTO "outbound_email" ("created_at", "recipients", "message_id", "status", "attempts", '
            '"next_attempt_at", "possible_duplicate") VALUES '
            + ", ".join([f"({p}, {p}, {p}, 'pending', 0, {p}, {p})"] * len(emails)) + ' RETURNING "id"',
            [v for _r, address, message_id in emails for v in (now, address, message_id, now, False)]))
        first_email = {}
        for (recipient, _address, _message), email_id in zip(emails, email_ids):
            first_email.setdefault(recipient, email_id)
        db.execute_sql('UPDATE "reminder_digest" SET "email_id" = CASE "id" '
                       + " ".join([f"WHEN {p} THEN {p}"] * len(mailed)) + f' END WHERE "day" = {p} AND "id" IN ('
                       + ", ".join([p] * len(mailed)) + ")",
                       [v for r in mailed for v in (digests[r], first_email[r])] + [iso] + [digests[r] for r in mailed])
    return len(mailed)


def outcome(today: dt.date) -> dict:
    """What a sweep and its digests left, to compare ours with the floor's (not timed): the
    reminders, the reminder days, each digest's recipient and count, the e-mails' addresses."""
    reminders = hashlib.sha256()
    for row in db.execute_sql('SELECT "claim_id", "kind", "due_on", "level", "recipient", "found_on" '
                              'FROM "deadline_reminder" ORDER BY 1, 2, 3, 4, 5').fetchall():
        reminders.update(repr(tuple(str(v) for v in row)).encode())
    return {
        "reminders": reminders.hexdigest(),
        "reminder days": [(str(day), n) for day, n in db.execute_sql(
            'SELECT "remind_on", COUNT(*) FROM "reminder_due" GROUP BY 1 ORDER BY 1').fetchall()],
        "waiting": db.execute_sql('SELECT COUNT(*) FROM "deadline_reminder" WHERE "digest_id" IS NULL').fetchone()[0],
        "digests": db.execute_sql(f'SELECT "recipient", "reminders", "email_id" IS NOT NULL FROM "reminder_digest" '
                                  f'WHERE "day" = {db.param} ORDER BY 1', [today.isoformat()]).fetchall(),
        "e-mails": db.execute_sql('SELECT "recipients", COUNT(*) FROM "outbound_email" GROUP BY 1 ORDER BY 1').fetchall(),
        "texts": db.execute_sql('SELECT COUNT(*) FROM "outbound_message"').fetchone()[0],
    }


def clear_outcome() -> None:
    """No reminder, digest, e-mail or text: the tables as before the first sweep."""
    with db.atomic():
        for table in ("deadline_reminder", "reminder_digest", "outbound_email", "outbound_message"):
            db.execute_sql(f'DELETE FROM "{table}"')
