"""One event on many claims at once, in batches: the ASP managers' bulk actions.

The rules are the engine's (`can`, the preparers); what changes is the cost: each
batch reads its claims in one query, updates each group of alike claims in one
UPDATE that still checks state and version, and writes history and e-mails with
multi-row INSERTs. A claim that cannot take the event is skipped with the reason.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
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
    insert_rows,
    utcnow,
)

from . import access, next_due, notify
from .engine import PREPARE, Change, can, check_allowed
from .errors import InvalidData, NotAllowed, WorkflowError
from .transitions import BULK_ROLES, TRANSITIONS

log = logging.getLogger("gessin.workflows")

BATCH = 500
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


def apply_many(event: str, claim_ids: list[int], user: User, *, start: int = 0, batch_size: int | None = None,
               progress: Callable[[int, BulkResult], None] | None = None, **data) -> BulkResult:
    """Apply `event` to every claim of `claim_ids` that `user` may see and act on.

    `start` skips the first claims (a job resumed after its worker stopped). After each
    batch's changes, and in the same transaction, `progress(claims processed, the batch's
    result)` is called: what it writes commits with the batch or not at all, and if it
    raises the batch is rolled back.
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
                             (lambda done: progress(end, done)) if progress else None)
        notify.flush()
        result.merge(batch)
    log.info("bulk %s by %s: %d done, %d skipped", event, user.login, len(result.succeeded), len(result.skipped))
    return result


def unique_ids(claim_ids) -> list[int]:
    """The ids in their order, each once: a job's position counts in this list."""
    return list(dict.fromkeys(int(i) for i in claim_ids))


def _load(ids: list[int], user: User) -> list[Claim]:
    """The batch's claims with their parties, in one query, limited to the user's scope."""
    C, R, L = AspCentre.alias(), Repairer.alias(), Lawyer.alias()
    party = ("id", "name", "email")
    columns = [getattr(Claim, name) for name in CLAIM_COLUMNS] + [getattr(C, n) for n in party + ("pec",)] \
        + [getattr(R, n) for n in party] + [getattr(L, n) for n in party]
    rows = (access.visible_claims(user, *columns)
            .join_from(Claim, C, on=(Claim.asp_centre == C.id), attr="asp_centre")
            .join_from(Claim, R, on=(Claim.repairer == R.id), attr="repairer")
            .join_from(Claim, L, pw.JOIN.LEFT_OUTER, on=(Claim.lawyer == L.id), attr="lawyer")
            .where(Claim.id.in_(ids)))
    claims = list(rows)
    kinds: dict[int, set[str]] = {}
    for claim_id, kind in (Attachment.select(Attachment.claim, Attachment.kind)
                           .where(Attachment.claim.in_(ids)).distinct().tuples()):
        kinds.setdefault(claim_id, set()).add(kind)
    for claim in claims:
        claim._present_kinds = kinds.get(claim.id, set())
    return claims


def _change_key(event: str, claim: Claim):
    """Claims with the same key get the same change: prepared once, not once per claim."""
    if event in ("assign", "self_assign"):
        return claim.asp_centre_id
    if event == "drop":
        return None
    return claim.id


def _apply_batch(event: str, ids: list[int], user: User, data: dict,
                 progress: Callable[[BulkResult], None] | None) -> BulkResult:
    result = BulkResult()
    claims = _load(ids, user)
    found = {c.id for c in claims}
    result.skipped += [(str(i), "pratica non trovata o non visibile") for i in ids if i not in found]
    prepared: dict = {}
    ready: list[tuple[Claim, Change]] = []
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
    try:
        with db.atomic():
            done = _write(event, ready, user)
            result.succeeded += [c.number for c, _ in ready if c.id in done]
            result.skipped += [(c.number, "modificata da un altro utente nel frattempo")
                               for c, _ in ready if c.id not in done]
            if progress:
                progress(result)
    except BaseException:
        notify.discard()  # the batch's e-mail rows were rolled back with it
        raise
    return result


def _write(event: str, ready: list[tuple[Claim, Change]], user: User) -> set[int]:
    """One UPDATE per group of alike claims (checking state and version), then bulk INSERTs."""
    t, now = TRANSITIONS[event], utcnow()
    groups: dict = {}
    for claim, change in ready:
        target = change.target or t.target or claim.status
        key = (claim.status, target, tuple(sorted(change.updates.items())))
        groups.setdefault(key, []).append(claim)
    done: set[int] = set()
    afters = {}
    for (source, target, updates), members in groups.items():
        values = {Claim.status: target, Claim.version: Claim.version + 1, Claim.updated_at: now,
                  **{getattr(Claim, k): v for k, v in updates}}
        if target != source:
            values[Claim.status_since] = now
        after = {**dict(updates), "status": target, **({"status_since": now} if target != source else {})}
        afters.update({c.id: (c, after) for c in members})
        rows = (Claim.update(values)
                .where(Claim.id.in_([c.id for c in members]),  # lets SQLite probe the primary key
                       pw.Tuple(Claim.id, Claim.version).in_([(c.id, c.version) for c in members]),
                       Claim.status == source)
                .returning(Claim.id).execute())
        done |= {row.id for row in rows}
    if done:  # read after the first write: on SQLite a read first would have to upgrade its lock
        next_due.store(next_due.columns_for([afters[i] for i in done], next_due.limits()))
    changes = {claim.id: (claim, change) for claim, change in ready if claim.id in done}
    history = [(claim.id, now, now, user.id, str(user), event, claim.status,
                change.target or t.target or claim.status, change.note) for claim, change in changes.values()]
    insert_rows(StatusChange, [StatusChange.claim, StatusChange.at, StatusChange.created_at, StatusChange.actor,
                               StatusChange.actor_label, StatusChange.event, StatusChange.from_status,
                               StatusChange.to_status, StatusChange.note], history)
    _queue_emails(event, changes.values(), user)
    return done


LISTED = 200  # claims listed in one e-mail; the rest are counted, with a link to the grid


def _queue_emails(event: str, changes, user: User) -> None:
    """One e-mail per party (repairer, centre, lawyer) listing the batch's claims that concern
    it, instead of one per claim: entrusting 300 claims to one lawyer tells the lawyer once.
    Parties concerned by the same claims share one message, rendered and stored once."""
    t = TRANSITIONS[event]
    lawyers = {lw.id: lw for lw in Lawyer.select().where(Lawyer.id.in_(
        [change.updates["lawyer"] for _, change in changes if "lawyer" in change.updates]))}
    by_address: dict[str, tuple[str, list[Claim]]] = {}  # an address in any case: one e-mail
    for claim, change in changes:
        if "lawyer" in change.updates:
            claim.lawyer = lawyers[change.updates["lawyer"]]
        claim.status = change.target or t.target or claim.status
        for address in notify.recipients(claim):
            by_address.setdefault(address.lower(), (address, []))[1].append(claim)
    note = next((change.note for _, change in changes if change.note), None)
    by_claims: dict[tuple[int, ...], tuple[list[str], list[Claim]]] = {}  # the same claims: one text for all
    for address, claims in by_address.values():
        claims.sort(key=lambda c: c.number)
        by_claims.setdefault(tuple(c.id for c in claims), ([], claims))[0].append(address)
    messages = []
    for addresses, claims in by_claims.values():
        first = claims[0]
        subject, body = notify.render(
            "bulk_change", event=event, count=len(claims), claims=claims[:LISTED], more=len(claims) - LISTED,
            first=first, lawyer=first.lawyer, actor=str(user), note=note, claim_url=notify.claim_url,
            grid_url=notify.absolute_url("/admin/claim/"))
        messages.append((first.id if len(claims) == 1 else None, addresses, subject, body))
    notify.write(messages)
