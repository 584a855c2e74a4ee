"""One event on many claims at once, in batches: the ASP managers' bulk actions.

The rules are the engine's (`can`, the preparers); what changes is the cost: each
batch reads its claims in one query, as plain rows sharing their parties; updates each
group of alike claims in one UPDATE that still checks state and version and writes their
next deadline; builds their history rows with INSERT ... SELECT; and writes the e-mails
once per party. A claim that cannot take the event, or changed since it was read, is
skipped with the reason.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

import peewee as pw
from flask_babel import lazy_gettext as _l

from models import (
    AspCentre,
    Attachment,
    Claim,
    Lawyer,
    Repairer,
    StatusChange,
    User,
    db,
    is_postgres,
    utcnow,
)

from . import access, deadline_store, next_due, notify, term_facts
from .engine import PREPARE, Change, can, check_allowed
from .errors import InvalidData, NotAllowed, WorkflowError
from .transitions import BULK_ROLES, TRANSITIONS

log = logging.getLogger("gessin.workflows")

# Claims per batch, each in one transaction (a job's, BULK_BATCH_SIZE in config.py, is the same by
# default): on PostgreSQL, fewer and larger transactions cost less (benchmarks/README.md, "bulk.py"),
# and a job tells its parties once whatever its batches (bulk_notices).
BATCH = 2500
# What the rules and the e-mail need of a claim: reading only these keeps a batch cheap.
CLAIM_COLUMNS = ("id", "number", "status", "version", "repairer", "asp_centre", "lawyer", "insurer",
                 "customer_name", "accident_date", "vehicle_a_plate", "vehicle_b_plate", "complete_since",
                 "claimed_amount") + tuple(name for name in next_due.COLUMNS if name not in ("status", "accident_date")) \
    + next_due.DEADLINE  # an unchanged deadline keeps its reminder day (next_due.columns_for)


@dataclass
class BulkResult:
    succeeded: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (claim number or id, reason)

    def merge(self, other: "BulkResult") -> None:
        self.succeeded += other.succeeded
        self.skipped += other.skipped


# The choices a bulk action needs for every claim alike: missing, it is refused before it starts.
CHOICES = {"lawyer": _l("Scegli il legale a cui affidare le pratiche."),
           "reason": _l("Scegli il motivo della chiusura.")}


def needed_choices(event: str) -> list[str]:
    t = TRANSITIONS.get(event)
    return [need for need in (t.needs if t else ()) if need in CHOICES]


def check_choices(event: str, data: dict) -> None:
    """Refuse, before any claim is read or any job recorded, an action missing its choice."""
    missing = [need for need in needed_choices(event) if not data.get(need)]
    if missing:
        raise InvalidData(CHOICES[missing[0]], missing[0])


Tell = Callable[[str, list[tuple["Loaded", Change]], User], None]


def apply_many(event: str, claim_ids: list[int], user: User, *, start: int = 0, batch_size: int | None = None,
               progress: Callable[[int, BulkResult], None] | None = None, tell: Tell | None = None,
               **data) -> BulkResult:
    """Apply `event` to every claim of `claim_ids` that `user` may see and act on.

    `start` skips the first claims (a job resumed after its worker stopped). After each
    batch's changes, and in the same transaction, `progress(claims processed, the batch's
    result)` is called: what it writes commits with the batch or not at all, and if it
    raises the batch is rolled back.

    Each batch tells the parties of its claims by e-mail (`queue_emails`), or, given
    `tell(event, changes, user)`, lets it record what to tell later, in the batch's
    transaction (a job tells each party once, when it ends: `bulk_notices`).
    """
    if event not in TRANSITIONS or not TRANSITIONS[event].bulk:
        raise NotAllowed(_l("«%(event)s» non è un'azione di gruppo.", event=event))
    if user.role not in BULK_ROLES:
        raise NotAllowed(_l("Le azioni di gruppo sono riservate ai centri ASP e al call center."))
    check_choices(event, data)
    result = BulkResult()
    ids, size = unique_ids(claim_ids), batch_size or BATCH
    for first in range(start, len(ids), size):
        end = min(first + size, len(ids))
        batch = _apply_batch(event, ids[first:end], user, data,
                             (lambda done: progress(end, done)) if progress else None, tell or _queue_emails)
        notify.flush()
        result.merge(batch)
    log.info("bulk %s by %s: %d done, %d skipped", event, user.login, len(result.succeeded), len(result.skipped))
    return result


def unique_ids(claim_ids) -> list[int]:
    """The ids in their order, each once: a job's position counts in this list."""
    return list(dict.fromkeys(int(i) for i in claim_ids))


class Loaded(SimpleNamespace):
    """A claim as a batch reads it: the columns of `CLAIM_COLUMNS` (a party's by its id,
    `asp_centre_id`...) and its parties, one object per party shared by its claims."""


FOREIGN = ("repairer", "asp_centre", "lawyer", "insurer")
NAMES = tuple(f"{name}_id" if name in FOREIGN else name for name in CLAIM_COLUMNS)
PARTY = ("id", "name", "email")
# The events whose rules read a claim's documents (`checklist.missing_items`): only
# their batches read the attachments' kinds.
READS_DOCUMENTS = ("validate",)


def _load(ids: list[int], user: User) -> list[Loaded]:
    """The batch's claims with their parties, in one query, limited to the user's scope."""
    C, R, L = AspCentre.alias(), Repairer.alias(), Lawyer.alias()
    columns = [getattr(Claim, name) for name in CLAIM_COLUMNS] + [getattr(C, n) for n in PARTY + ("pec",)] \
        + [getattr(R, n) for n in PARTY] + [getattr(L, n) for n in PARTY]
    rows = (access.visible_claims(user, *columns)
            .join_from(Claim, C, on=(Claim.asp_centre == C.id))
            .join_from(Claim, R, on=(Claim.repairer == R.id))
            .join_from(Claim, L, pw.JOIN.LEFT_OUTER, on=(Claim.lawyer == L.id))
            .where(among(ids)))
    n, parties, claims = len(NAMES), {}, []
    for row in _rows(rows, columns):
        claim = Loaded(**dict(zip(NAMES, row[:n])))
        claim.asp_centre = party(parties, AspCentre, row[n:n + 4], ("pec",))
        claim.repairer = party(parties, Repairer, row[n + 4:n + 7])
        claim.lawyer = party(parties, Lawyer, row[n + 7:n + 10]) if row[n + 7] is not None else None
        claims.append(claim)
    return claims


def among(ids: list[int]) -> pw.Expression:
    """The claims `ids`: on PostgreSQL as one array, which peewee does not build value by value."""
    if is_postgres():
        return Claim.id == pw.fn.ANY(pw.Value(list(ids), unpack=False))
    return Claim.id.in_(ids)


def _rows(query, columns) -> list[tuple]:
    """The query's rows as tuples. PostgreSQL's driver already gives each value its Python
    type (a date, a Decimal), so they are taken as they come, without a field's conversion
    of each of the 38 values of 500 rows; SQLite gives dates as text: the fields read them."""
    rows = db.execute_sql(*query.sql()).fetchall()
    if is_postgres():
        return rows
    readers = [column.python_value for column in columns]
    return [tuple(read(value) for read, value in zip(readers, row)) for row in rows]


def party(parties: dict, model, values: tuple, extra: tuple = ()):
    """The party of these columns, made once per batch whatever the number of its claims."""
    key = (model, values[0])
    if key not in parties:
        parties[key] = model(**dict(zip(PARTY + extra, values)))
    return parties[key]


def _read_documents(claims: list[Loaded]) -> None:
    """The kinds of document each claim has, in one query (`checklist.missing_items` reads them)."""
    kinds: dict[int, set[str]] = {}
    for claim_id, kind in (Attachment.select(Attachment.claim, Attachment.kind)
                           .where(Attachment.claim.in_([c.id for c in claims])).distinct().tuples()):
        kinds.setdefault(claim_id, set()).add(kind)
    for claim in claims:
        claim._present_kinds = kinds.get(claim.id, set())


def _change_key(event: str, claim: Loaded):
    """Claims with the same key get the same change: prepared once, not once per claim."""
    if event in ("assign", "self_assign"):
        return claim.asp_centre_id
    if event == "drop":
        return None
    return claim.id


def _apply_batch(event: str, ids: list[int], user: User, data: dict,
                 progress: Callable[[BulkResult], None] | None, tell: Tell) -> BulkResult:
    result = BulkResult()
    claims = _load(ids, user)
    if event in READS_DOCUMENTS:
        _read_documents(claims)
    found = {c.id for c in claims}
    result.skipped += [(str(i), "pratica non trovata o non visibile") for i in ids if i not in found]
    prepared: dict = {}
    ready: list[tuple[Loaded, Change]] = []
    for claim in claims:
        try:
            if not can(event, claim, user):
                check_allowed(TRANSITIONS[event], claim, user)  # raises with the reason
            key = _change_key(event, claim)
            if key not in prepared:
                prepared[key] = PREPARE[event](claim, user, **data)
            ready.append((claim, prepared[key]))
        except WorkflowError as exc:
            result.skipped.append((claim.number, str(exc.message)))
    # Read before the transaction opens: on SQLite a read first would have to upgrade its lock.
    now, limits = utcnow(), next_due.limits()
    facts = term_facts.for_claims(claim.id for claim, _ in ready)  # the few demands and suspensions
    try:
        with db.atomic():
            done = _write(event, ready, user, now, limits, facts, tell)
            result.succeeded += [c.number for c, _ in ready if c.id in done]
            result.skipped += [(c.number, "modificata da un altro utente nel frattempo")
                               for c, _ in ready if c.id not in done]
            if progress:
                progress(result)
    except BaseException:
        notify.discard()  # the batch's e-mail rows were rolled back with it
        raise
    return result


def _write(event: str, ready: list[tuple[Loaded, Change]], user: User, now, limits, facts, tell: Tell) -> set[int]:
    """Per group of alike claims: one UPDATE (checking state and version, writing the next
    deadline too) and one INSERT ... SELECT of their history rows; then the reminder days,
    and the parties told (`tell`)."""
    t = TRANSITIONS[event]
    groups: dict = {}
    for claim, change in ready:
        target = change.target or t.target or claim.status
        key = (claim.status, target, tuple(sorted(change.updates.items())), change.note)
        groups.setdefault(key, []).append(claim)
    done: set[int] = set()
    deadlines = {}
    for (source, target, updates, note), members in groups.items():
        after = {**dict(updates), "status": target, **({"status_since": now} if target != source else {})}
        deadlines.update(next_due.columns_for_alike(members, after, limits, facts))
        for first in range(0, len(members), WRITE_CHUNK):
            part = members[first:first + WRITE_CHUNK]
            updated = _update(part, source, after, deadlines, now)
            _history(updated, now, user, event, source, target, note)
            done.update(updated)
    deadline_store.schedule_reminders({claim_id: deadline_store.reminder_of(deadlines[claim_id]) for claim_id in done
                                 if next_due.REMIND in deadlines[claim_id]})
    tell(event, [(claim, change) for claim, change in ready if claim.id in done], user)
    return done


WRITE_CHUNK = 500  # claims per UPDATE: about 10 parameters each, well within SQLite's limit


def _update(claims: list[Loaded], source: str, after: dict, deadlines: dict, now) -> list[int]:
    """UPDATE the claims still in `source` at the version they were read in, to `after` and
    their next deadline; returns the ids updated. The claims are listed per version read
    (`version = 3 AND id IN (...)`), not as (id, version) pairs the database compares row by
    row. The SQL is written here, as `deadline_store.store`: peewee builds long lists of values
    more slowly than the database runs them."""
    p = db.param
    fields = [(getattr(Claim, name), value) for name, value in after.items()] + [(Claim.updated_at, now)]
    sets = [f'"{field.column_name}" = {p}' for field, _ in fields] + ['"version" = "version" + 1']
    params = [field.db_value(value) for field, value in fields]
    deadline_sets, deadline_params = deadline_store.set_clauses([(c.id, deadlines[c.id]) for c in claims])
    by_version: dict[int, list[int]] = {}  # claims read together are mostly at a few versions
    for claim in claims:
        by_version.setdefault(claim.version, []).append(claim.id)
    read_as = " OR ".join(f'("version" = {p} AND "id" IN ({", ".join([p] * len(ids))}))'  # the primary key probed
                          for ids in by_version.values())
    sql = (f'UPDATE "claim" SET {", ".join(sets + deadline_sets)} '
           f'WHERE "status" = {p} AND ({read_as}) RETURNING "id"')
    params += deadline_params + [source] + [v for version, ids in by_version.items() for v in (version, *ids)]
    return [row[0] for row in db.execute_sql(sql, params).fetchall()]


HISTORY = (StatusChange.claim, StatusChange.at, StatusChange.created_at, StatusChange.actor,
           StatusChange.actor_label, StatusChange.event, StatusChange.from_status, StatusChange.to_status,
           StatusChange.note)


def _history(ids: list[int], now, user: User, event: str, source: str, target: str, note) -> None:
    """The history rows of claims that took the same change, built by the database from their ids."""
    if not ids:
        return
    p = db.param
    values = [now, now, user.id, str(user), event, source, target, note]
    params = [field.db_value(value) for field, value in zip(HISTORY[1:], values)]
    columns = ", ".join(f'"{field.column_name}"' for field in HISTORY)
    db.execute_sql(f'INSERT INTO "status_change" ({columns}) '
                   f'SELECT "id", {", ".join([p] * len(values))} FROM "claim" '
                   f'WHERE "id" IN ({", ".join([p] * len(ids))}) ORDER BY "id"', params + sorted(ids))


LISTED = 200  # claims listed in one e-mail; the rest are counted, with a link to the grid


def _queue_emails(event: str, changes, user: User) -> None:
    """The batch's claims told to their parties at once (`queue_emails`), as they are after the change."""
    t = TRANSITIONS[event]
    lawyers = {lw.id: lw for lw in Lawyer.select().where(Lawyer.id.in_(
        {change.updates["lawyer"] for _, change in changes if "lawyer" in change.updates}))}
    for claim, change in changes:
        if "lawyer" in change.updates:
            claim.lawyer = lawyers[change.updates["lawyer"]]
        claim.status = change.target or t.target or claim.status
    queue_emails(event, [claim for claim, _ in changes], user, next((c.note for _, c in changes if c.note), None))


def queue_emails(event: str, claims: list[Loaded], user: User, note: str | None) -> None:
    """One e-mail per party (repairer, centre, lawyer) listing the claims that concern it,
    instead of one per claim: entrusting 300 claims to one lawyer tells the lawyer once.
    Parties concerned by the same claims share one message, rendered and stored once.
    `claims` are as the change left them: their state and parties."""
    by_address: dict[str, tuple[str, list[Loaded]]] = {}  # an address in any case: one e-mail
    by_parties: dict[tuple, list[str]] = {}  # the same parties, the same addresses: looked up once
    for claim in claims:
        parties = (claim.repairer_id, claim.asp_centre_id, claim.lawyer.id if claim.lawyer else None)
        if parties not in by_parties:
            by_parties[parties] = notify.recipients(claim)
        for address in by_parties[parties]:
            by_address.setdefault(address.lower(), (address, []))[1].append(claim)
    by_claims: dict[tuple[int, ...], tuple[list[str], list[Loaded]]] = {}  # the same claims: one text for all
    for address, theirs in by_address.values():
        theirs.sort(key=lambda c: c.number)
        by_claims.setdefault(tuple(c.id for c in theirs), ([], theirs))[0].append(address)
    messages = []
    for addresses, theirs in by_claims.values():
        first = theirs[0]
        subject, body = notify.render(
            "bulk_change", event=event, count=len(theirs), claims=theirs[:LISTED], more=len(theirs) - LISTED,
            first=first, lawyer=first.lawyer, actor=str(user), note=note, claim_url=notify.claim_url,
            grid_url=notify.absolute_url("/admin/claim/"))
        messages.append((first.id if len(theirs) == 1 else None, addresses, subject, body))
    notify.write(messages)
