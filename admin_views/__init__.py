"""The back office: Flask-Admin grids bound to the scoped queries of workflows.access."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from models import (
    AspCentre,
    Claim,
    ClaimStatus,
    InsuranceCompany,
    IntakeEvent,
    Lawyer,
    OutboundEmail,
    QueueLimit,
    Repairer,
    Role,
    StatusChange,
    User,
)
from security_headers import csp_nonce

from .claims import QUEUES, ClaimView, QueueView
from .formatters import euro, status_badge, when
from .home import HomeView
from .parties import AspCentreView, InsuranceCompanyView, LawyerView, RepairerView
from .system import HistoryView, IntakeEventView, OutboundEmailView, QueueLimitView, UserView
from .urls import IdConverter


def init_admin(app: Flask) -> Admin:
    app.url_map.converters["id"] = IdConverter  # before the views' routes are added
    admin = Admin(
        app,
        name="Gessin",
        index_view=HomeView(name=_l("Cruscotto"), url="/admin"),
        theme=Bootstrap4Theme(base_template="gessin_base.html", fluid=True),
        translations_path=str(Path(__file__).resolve().parent / "translations"),  # what Flask-Admin's lacks
        csp_nonce_generator=csp_nonce,  # its templates put the request's nonce on their scripts
    )
    claims = ClaimView(Claim, name=_l("Pratiche"), endpoint="claim")
    admin._claims_view = claims
    admin.add_view(claims)
    queues = _l("Code di lavoro")
    for slug, label, statuses in QUEUES:
        admin.add_view(QueueView(statuses, Claim, name=label, category=queues, endpoint=f"queue_{slug.replace('-', '_')}",
                                 url=f"/admin/queue/{slug}"))
    registry = _l("Anagrafiche")
    admin.add_view(RepairerView(Repairer, name=_l("Carrozzerie"), category=registry, endpoint="repairer"))
    admin.add_view(AspCentreView(AspCentre, name=_l("Centri ASP"), category=registry, endpoint="aspcentre"))
    admin.add_view(LawyerView(Lawyer, name=_l("Legali"), category=registry, endpoint="lawyer"))
    admin.add_view(InsuranceCompanyView(InsuranceCompany, name=_l("Compagnie"), category=registry, endpoint="insurer"))
    system = _l("Sistema")
    admin.add_view(HistoryView(StatusChange, name=_l("Storico"), category=system, endpoint="history"))
    admin.add_view(OutboundEmailView(OutboundEmail, name=_l("E-mail in uscita"), category=system, endpoint="outbox"))
    admin.add_view(QueueLimitView(QueueLimit, name=_l("Tempi di permanenza"), category=system, endpoint="queuelimit"))
    admin.add_view(IntakeEventView(IntakeEvent, name=_l("Registro WinCar"), category=system, endpoint="intake"))
    admin.add_view(UserView(User, name=_l("Utenti"), category=system, endpoint="user"))

    app.jinja_env.filters.update(
        gessin_when=when,
        gessin_euro=euro,
        gessin_badge=status_badge,
        gessin_status=lambda s: ClaimStatus.LABELS.get(s, s),
        gessin_role=lambda r: Role.LABELS.get(r, r),
    )
    return admin
