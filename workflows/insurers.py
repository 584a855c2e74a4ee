"""Insurers' names as WinCar sends them: matching them to the registry, and the call centre's mapping.

WinCar sends each vehicle's insurer as free text. A name is known when, normalised, it is
an active registry insurer's own name or one of its aliases (`InsurerAlias`); a name the
registry does not know is never added to it: it stays on the claim as sent, with no foreign
key, until the call centre maps it once, to an existing insurer or to one it creates from
the name. The mapping then applies to every claim that sent that name, and later intakes
find it through the alias.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

import peewee as pw
from flask_babel import lazy_gettext as _l

from models import Claim, ClaimStatus, InsuranceCompany, InsurerAlias, Role, StatusChange, User, db, utcnow

from . import engine, who_pays
from .errors import InvalidData, NotAllowed

log = logging.getLogger("gessin.insurers")

SIDES = ("a", "b")
MAPPED_EVENT = "insurer_mapped"

# Words that do not tell one insurer from another, dropped at the ends of a name (never all of it):
# legal forms at the end ("S.p.A."), the generic word at either end ("Assicurazioni Generali",
# "UnipolSai Assicurazioni"). Two different insurers that become equal are left unmatched.
LEGAL_FORMS = frozenset({"spa", "srl", "scarl", "scpa", "sa", "ag", "se", "nv", "plc", "ltd"})
GENERIC_WORDS = frozenset({"assicurazioni", "assicurazione"})
KEY_LENGTH = InsurerAlias.key.max_length


def normalise(name: str | None) -> str:
    """The key two spellings of one insurer share: no case, accents, spaces or punctuation,
    no legal form or generic word at the ends. "UnipolSai Assicurazioni S.p.A." -> "unipolsai"."""
    if not name or not name.strip():
        return ""
    text = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[.'’`]", "", text)  # initials and elisions: "S.p.A." -> "spa", "Dell'Adriatico"
    words = _join_initials(re.findall(r"[^\W_]+", text))
    while len(words) > 1 and (words[-1] in LEGAL_FORMS or words[-1] in GENERIC_WORDS):
        words.pop()
    while len(words) > 1 and words[0] in GENERIC_WORDS:
        words.pop(0)
    key = "".join(words) or " ".join(name.casefold().split())  # a name of symbols only keeps them
    return key[:KEY_LENGTH]


def _join_initials(words: list[str]) -> list[str]:
    """"s p a" -> "spa": a run of single letters is one word."""
    joined: list[str] = []
    run = ""
    for word in words:
        if len(word) == 1:
            run += word
            continue
        if run:
            joined.append(run)
            run = ""
        joined.append(word)
    return joined + [run] if run else joined


# ---- matching at intake ------------------------------------------------------------

def insurers_named(names) -> dict[str, InsuranceCompany | None]:
    """The active registry insurer each name WinCar sent stands for, or None when the registry
    does not know it (the name is never added). Keyed by the names as sent.

    One query when every name is spelled as in the registry; then the aliases; then the
    registry's own names normalised, used only when exactly one insurer has that key.
    """
    sent = {name for name in names if name and name.strip()}
    if not sent:
        return {}
    found: dict[str, InsuranceCompany | None] = {}
    exact = {i.name.lower(): i for i in _active().where(
        pw.fn.LOWER(InsuranceCompany.name).in_({name.strip().lower() for name in sent}))}
    for name in sent:
        if name.strip().lower() in exact:
            found[name] = exact[name.strip().lower()]
    rest = {name: normalise(name) for name in sent if name not in found}
    if rest:
        aliases = {a.key: a.insurer for a in InsurerAlias.select(InsurerAlias, InsuranceCompany)
                   .join(InsuranceCompany).where(InsurerAlias.key.in_(set(rest.values())),
                                                 InsuranceCompany.active == True)}  # noqa: E712
        for name, key in rest.items():
            if key in aliases:
                found[name] = aliases[key]
        if any(name not in found for name in rest):
            registry = registry_by_key()
            for name, key in rest.items():
                if name not in found and len(registry.get(key, ())) == 1:
                    found[name] = registry[key][0]
    return {name: found.get(name) for name in sent}


def _active() -> pw.ModelSelect:
    return InsuranceCompany.select().where(InsuranceCompany.active == True)  # noqa: E712


def registry_by_key() -> dict[str, list[InsuranceCompany]]:
    """Active registry insurers by their normalised name (a short table: read whole)."""
    by_key = defaultdict(list)
    for insurer in _active().order_by(InsuranceCompany.id):
        by_key[normalise(insurer.name)].append(insurer)
    return by_key


def keep_hand_set(claim: Claim, fields: dict) -> dict:
    """A seguito that sends again a name the registry does not know keeps the insurer the
    call centre set on the claim by hand (the same name, or none before)."""
    for side in SIDES:
        fk, name = f"vehicle_{side}_insurer", f"vehicle_{side}_insurer_name"
        current = getattr(claim, f"{fk}_id")
        if current is not None and fields.get(fk) is None and fields.get(name) and (
                not getattr(claim, name) or normalise(getattr(claim, name)) == normalise(fields[name])):
            fields[fk] = current
    return fields


def unmapped_clause() -> pw.Expression:
    """Claims with a vehicle whose insurer's name waits for the call centre."""
    return ((Claim.vehicle_a_insurer.is_null() & Claim.vehicle_a_insurer_name.is_null(False))
            | (Claim.vehicle_b_insurer.is_null() & Claim.vehicle_b_insurer_name.is_null(False)))


def is_unmapped(claim: Claim, side: str) -> bool:
    return getattr(claim, f"vehicle_{side}_insurer_id") is None and bool(getattr(claim, f"vehicle_{side}_insurer_name"))


# ---- the call centre's grid ----------------------------------------------------------

@dataclass
class UnknownName:
    key: str
    name: str  # the spelling most claims sent
    claims: int
    spellings: list[str] = field(default_factory=list)
    suggestion: InsuranceCompany | None = None  # a registry insurer with the same key, created since


def may_manage(user: User | None) -> bool:
    """Only the call centre sees unknown names and maps them."""
    return user is not None and user.is_active and user.role == Role.ADMIN


def _check(user: User | None) -> None:
    if not may_manage(user):
        raise NotAllowed(_l("Solo il call center abbina le compagnie."))


def _sent_by_side(side: str) -> pw.ModelSelect:
    name = getattr(Claim, f"vehicle_{side}_insurer_name")
    return Claim.select(Claim.id, name.alias("name")).where(
        getattr(Claim, f"vehicle_{side}_insurer").is_null(), name.is_null(False))


def unknown_names(user: User) -> list[UnknownName]:
    """Every name no claim could match yet, with how many claims sent it, most frequent first."""
    _check(user)
    sent = (_sent_by_side("a") | _sent_by_side("b")).alias("sent")  # UNION: a claim counts once per spelling
    rows = (pw.Select([sent], [sent.c.name, pw.fn.COUNT(pw.SQL("*"))]).group_by(sent.c.name)
            .bind(db).tuples())
    groups: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for name, count in rows:
        groups[normalise(name)].append((name, count))
    registry = registry_by_key() if groups else {}
    names = []
    for key, spellings in groups.items():
        spellings.sort(key=lambda item: (-item[1], item[0].isupper(), item[0]))  # "Gruppo X" before "GRUPPO X"
        matches = registry.get(key, [])
        names.append(UnknownName(key=key, name=spellings[0][0], claims=sum(c for _, c in spellings),
                                 spellings=[s for s, _ in spellings],
                                 suggestion=matches[0] if len(matches) == 1 else None))
    names.sort(key=lambda n: (-n.claims, n.name.casefold()))
    return names


# ---- mapping a name ---------------------------------------------------------------------

@dataclass
class Mapped:
    insurer: InsuranceCompany
    claims: int = 0  # claims whose vehicle now points to the insurer
    recomputed: int = 0  # open claims whose debtor insurer or verdict changed
    created: bool = False
    incomplete: list[int] = field(default_factory=list)  # mapped claims waiting for missing items


def map_name(name: str, insurer: InsuranceCompany | int, user: User) -> Mapped:
    """Map a name WinCar sent to a registry insurer: the alias, then every claim that sent it."""
    _check(user)
    name = _clean(name, "name")
    insurer_id = int(getattr(insurer, "id", insurer))
    insurer = _active().where(InsuranceCompany.id == insurer_id).first() if 0 < insurer_id < 2 ** 31 else None
    if insurer is None:
        raise InvalidData(_l("Scegli una compagnia attiva del registro."), "insurer")
    with db.atomic():
        result = _map(name, insurer, user)
    return _after(result, user)


def create_from_name(name: str, insurer_name: str, user: User, claims_email: str | None = None,
                     claims_pec: str | None = None, claims_address: str | None = None) -> Mapped:
    """Add a registry insurer for a name WinCar sent (spelled as the call centre corrects it), with
    its claims office's e-mail, PEC and postal address (the claim letter and the raccomandata's
    envelope need it), and map it."""
    _check(user)
    name, insurer_name = _clean(name, "name"), _clean(insurer_name, "insurer_name")
    if InsuranceCompany.select().where(pw.fn.LOWER(InsuranceCompany.name) == insurer_name.lower()).exists():
        raise InvalidData(_l("«%(name)s» è già nel registro delle compagnie: abbina il nome a quella.",
                             name=insurer_name), "insurer_name")
    with db.atomic():
        insurer = InsuranceCompany.create(name=insurer_name, claims_email=(claims_email or "").strip() or None,
                                          claims_pec=(claims_pec or "").strip() or None,
                                          claims_address=_address(claims_address))
        log.info("insurer %r (%s) added to the registry by %s", insurer.name, insurer.id, user.login)
        result = _map(name, insurer, user)
    result.created = True
    return _after(result, user)


def _address(value: str | None) -> str | None:
    value = " ".join((value or "").split())
    if len(value) > InsuranceCompany.claims_address.max_length or "\x00" in value:
        raise InvalidData(_l("Indirizzo dell'ufficio sinistri non valido (al massimo 300 caratteri)."),
                          "claims_address")
    return value or None


def _clean(value: str | None, field_name: str) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise InvalidData(_l("Indica il nome della compagnia."), field_name)
    if len(value) > InsuranceCompany.name.max_length or "\x00" in value:
        raise InvalidData(_l("Nome della compagnia non valido (al massimo 200 caratteri)."), field_name)
    return value


def _map(name: str, insurer: InsuranceCompany, user: User) -> Mapped:
    key = normalise(name)
    now = utcnow()
    (InsurerAlias.insert(key=key, name=name, insurer=insurer, created_by=user, created_at=now)
     .on_conflict(conflict_target=[InsurerAlias.key],
                  update={InsurerAlias.name: name, InsurerAlias.insurer: insurer.id,
                          InsurerAlias.created_by: user.id, InsurerAlias.created_at: now})
     .execute())
    spellings = sorted({n for n in _unknown_spellings() if normalise(n) == key})
    sides: dict[int, list[str]] = defaultdict(list)
    if spellings:
        for side in SIDES:
            fk, sent = getattr(Claim, f"vehicle_{side}_insurer"), getattr(Claim, f"vehicle_{side}_insurer_name")
            updated = (Claim.update({fk: insurer.id, Claim.version: Claim.version + 1, Claim.updated_at: now})
                       .where(fk.is_null(), sent.in_(spellings)).returning(Claim.id, Claim.number).execute())
            for row in updated:
                sides[row.id].append(side)
                log.info("claim %s: insurer of vehicle %s %r mapped to %s by %s", row.number, side.upper(),
                         name, insurer.name, user.login)
    result = Mapped(insurer=insurer, claims=len(sides))
    result.recomputed = _recompute(sides, name, insurer, user, now)
    log.info("insurer name %r mapped to %s (%s) by %s: %d claims, %d open ones recomputed",
             name, insurer.name, insurer.id, user.login, result.claims, result.recomputed)
    result.incomplete = [cid for (cid,) in Claim.select(Claim.id).where(
        Claim.id.in_(list(sides)), Claim.status == ClaimStatus.INCOMPLETE).tuples()] if sides else []
    return result


def _unknown_spellings() -> list[str]:
    names = (_sent_by_side("a").select(Claim.vehicle_a_insurer_name)
             | _sent_by_side("b").select(Claim.vehicle_b_insurer_name))
    return [name for (name,) in names.tuples()]


def _recompute(sides: dict[int, list[str]], name: str, insurer: InsuranceCompany, user: User, now) -> int:
    """The debtor insurer and the direct-compensation verdict of the open claims just mapped,
    by the one rule (`who_pays.reassess`: a debtor chosen by hand stays); one history row per open claim."""
    if not sides:
        return 0
    history, recomputed = [], 0
    for claim in Claim.select().where(Claim.id.in_(list(sides)), Claim.status.not_in(ClaimStatus.FINAL)):
        before = (claim.insurer_id, claim.direct_compensation, claim.direct_compensation_reason)
        assessed = who_pays.reassess(claim)
        applies, reason = assessed["direct_compensation"], assessed["direct_compensation_reason"]
        vehicles = " e ".join(s.upper() for s in sides[claim.id])
        note = f"Compagnia del veicolo {vehicles} «{name}» abbinata a {insurer.name}."
        if (claim.insurer_id, applies, reason) != before:
            recomputed += 1
            Claim.update(insurer=claim.insurer_id, insurer_by_hand=assessed["insurer_by_hand"],
                         direct_compensation=applies, direct_compensation_reason=reason).where(
                Claim.id == claim.id).execute()
            if claim.insurer_id != before[0]:
                debtor_name = (insurer.name if claim.insurer_id == insurer.id
                               else claim.insurer.name if claim.insurer_id else "—")
                note += f" Compagnia debitrice: {debtor_name}."
            if (applies, reason) != before[1:]:
                note += f" {reason}"
            log.info("claim %s: debtor insurer %s, direct compensation %s, recomputed after a mapping by %s",
                     claim.number, claim.insurer_id, applies, user.login)
        history.append(dict(claim=claim.id, at=now, created_at=now, actor=user.id, actor_label=str(user),
                            event=MAPPED_EVENT, from_status=claim.status, to_status=claim.status, note=note))
    if history:
        StatusChange.insert_many(history).execute()
    return recomputed


def _after(result: Mapped, user: User) -> Mapped:
    """Once committed: an incomplete claim that only lacked its debtor insurer returns to validation."""
    for claim_id in result.incomplete:
        engine.complete_if_ready(Claim.get_by_id(claim_id), user)
    return result
