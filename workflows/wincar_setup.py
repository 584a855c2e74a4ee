"""What a body shop needs to set WinCar up, and what WinCar has sent so far.

The seed's steps, with the repairer's own values: its UserID, where its password went,
and the ASP centres it works with (partita IVA and ragione sociale, for WinCar's table
of Legali). Its last posts come from the intake log, told in Italian.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json

import peewee as pw
from flask_babel import lazy_gettext as _l

from models import AspCentre, Claim, IntakeEvent, Repairer

from . import access

RECENT_POSTS = 20

RESULTS = {
    200: _l("Ricevuto"),
    201: _l("Pratica creata"),
    400: _l("Richiesta non leggibile"),
    401: _l("Credenziali non valide"),
    409: _l("Pratica modificata nel frattempo: reinviare"),
    413: _l("Troppo grande"),
    415: _l("Formato non supportato"),
    422: _l("Dati non validi"),
    429: _l("Troppi tentativi falliti"),
}


@dataclasses.dataclass(frozen=True)
class Post:
    at: dt.datetime
    event: str | None
    wincar_ref: str | None
    status: int
    result: str
    claim_id: int | None
    claim_number: str | None
    message: str | None

    @property
    def ok(self) -> bool:
        return self.status < 400


def centres(repairer: Repairer) -> list[AspCentre]:
    """The ASP centres the body shop works with, and those of its claims, by name."""
    linked = {c.id: c for c in access.affiliated_centres(repairer.id)}
    for centre in AspCentre.select().where(AspCentre.id.in_(
            Claim.select(Claim.asp_centre).where(Claim.repairer == repairer.id))):
        linked.setdefault(centre.id, centre)
    return sorted(linked.values(), key=lambda c: c.name.lower())


def error_text(error: str | None) -> str | None:
    """The Italian words of a refused post: the problem's detail and each field's message."""
    if not error:
        return None
    try:
        problem = json.loads(error)
    except ValueError:
        return str(_l("Errore interno del portale: la pratica non è stata registrata."))
    if not isinstance(problem, dict):
        return None
    parts = [str(problem.get("detail") or problem.get("title") or "")]
    parts += [f"{e.get('field')}: {e.get('message')}" for e in problem.get("errors") or [] if isinstance(e, dict)]
    return " · ".join(p for p in parts if p)


def recent_posts(repairer: Repairer, limit: int = RECENT_POSTS) -> list[Post]:
    """The last requests WinCar made with this body shop's UserID, newest first."""
    if not repairer.wincar_user:
        return []
    rows = (IntakeEvent.select(IntakeEvent, Claim.id, Claim.number)
            .join(Claim, pw.JOIN.LEFT_OUTER,  # a claim since transferred to another body shop is not named
                  on=(IntakeEvent.claim == Claim.id) & (Claim.repairer == repairer.id))
            .where(IntakeEvent.wincar_user == repairer.wincar_user)
            .order_by(IntakeEvent.received_at.desc(), IntakeEvent.id.desc()).limit(limit))
    posts = []
    for row in rows:
        claim = getattr(row, "claim", None) if row.claim_id else None
        claim = claim if claim is not None and claim.id else None
        posts.append(Post(at=row.received_at, event=row.event, wincar_ref=row.wincar_ref, status=row.http_status,
                          result=str(RESULTS.get(row.http_status, _l("Errore del portale"))),
                          claim_id=claim.id if claim else None, claim_number=claim.number if claim else None,
                          message=error_text(row.error)))
    return posts
