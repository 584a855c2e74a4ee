"""The back office: Flask-Admin grids bound to the scoped queries of workflows.access."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import format_number
from flask_babel import lazy_gettext as _l

from models import (
    AspCentre,
    BulkJob,
    Claim,
    DeadlineReminder,
    ContactChange,
    ClaimStatus,
    InsuranceCompany,
    InsurerAddress,
    InsurerAlias,
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
from workflows import dates
from workflows.queues import QUEUES

from .bulk_jobs import BulkJobView
from .claims import ClaimView, QueueView
from .flash_words import plain_italian
from .formatters import euro, status_badge, when
from .home import HomeView
from .insurer_addresses import InsurerAddressView
from .insurers import InsurerAliasView, UnknownInsurerView
from .kept import forget_after_a_change
from .menu_counts import count_in_menu, kept_menu
from .onboarding import init_onboarding
from .parties import AspCentreView, InsuranceCompanyView, LawyerView, RepairerView
from .reminders import DeadlineReminderView
from .system import ContactChangeView, HistoryView, IntakeEventView, OutboundEmailView, QueueLimitView, UserView
from .urls import IdConverter


class GessinAdmin(Admin):
    """Flask-Admin's `Admin`, keeping its views by endpoint (the home page, the route scope test)."""

    def __init__(self, *args, **kwargs):
        self.views_by_endpoint: dict[str, object] = {}
        super().__init__(*args, **kwargs)

    def add_view(self, view) -> None:
        super().add_view(view)
        self.views_by_endpoint[view.endpoint] = view


def init_admin(app: Flask) -> GessinAdmin:
    app.url_map.converters["id"] = IdConverter  # before the views' routes are added
    admin = GessinAdmin(
        app,
        name="Gessin",
        index_view=HomeView(name=_l("Cruscotto"), url="/admin"),
        theme=Bootstrap4Theme(base_template="gessin_base.html", fluid=True),
        translations_path=str(Path(__file__).resolve().parent / "translations"),  # what Flask-Admin's lacks
        csp_nonce_generator=csp_nonce,  # its templates put the request's nonce on their scripts
    )
    admin.add_view(ClaimView(Claim, name=_l("Pratiche"), endpoint="claim"))
    queues = _l("Code di lavoro")
    for queue in QUEUES:
        view = QueueView(queue, Claim, name=queue.label, category=queues,
                         endpoint=f"queue_{queue.slug.replace('-', '_')}", url=f"/admin/queue/{queue.slug}")
        admin.add_view(view)
        count_in_menu(view)
    registry = _l("Anagrafiche")
    admin.add_view(RepairerView(Repairer, name=_l("Carrozzerie"), category=registry, endpoint="repairer"))
    admin.add_view(AspCentreView(AspCentre, name=_l("Centri ASP"), category=registry, endpoint="aspcentre"))
    admin.add_view(LawyerView(Lawyer, name=_l("Legali"), category=registry, endpoint="lawyer"))
    admin.add_view(InsuranceCompanyView(InsuranceCompany, name=_l("Compagnie"), category=registry, endpoint="insurer"))
    admin.add_view(UnknownInsurerView(name=_l("Compagnie da abbinare"), category=registry, endpoint="unknown_insurer",
                                      url="/admin/unknown-insurer"))
    admin.add_view(InsurerAliasView(InsurerAlias, name=_l("Nomi abbinati"), category=registry, endpoint="insurer_alias"))
    admin.add_view(InsurerAddressView(InsurerAddress, name=_l("Indirizzi uffici sinistri"), category=registry,
                                      endpoint="insurer_address", url="/admin/insurer-address"))
    system = _l("Sistema")
    admin.add_view(HistoryView(StatusChange, name=_l("Storico"), category=system, endpoint="history"))
    admin.add_view(OutboundEmailView(OutboundEmail, name=_l("E-mail in uscita"), category=system, endpoint="outbox"))
    admin.add_view(BulkJobView(BulkJob, name=_l("Azioni di gruppo"), category=system, endpoint="bulkjob"))
    admin.add_view(QueueLimitView(QueueLimit, name=_l("Tempi di permanenza"), category=system, endpoint="queuelimit"))
    admin.add_view(DeadlineReminderView(DeadlineReminder, name=_l("Promemoria scadenze"), category=system,
                                        endpoint="reminder", url="/admin/reminders"))
    admin.add_view(IntakeEventView(IntakeEvent, name=_l("Registro WinCar"), category=system, endpoint="intake"))
    admin.add_view(UserView(User, name=_l("Utenti"), category=system, endpoint="user"))
    admin.add_view(ContactChangeView(ContactChange, name=_l("Modifiche recapiti"), category=system,
                                     endpoint="contactchange"))
    init_onboarding(app, admin, registry, system)
    app.after_request(forget_after_a_change)

    app.jinja_env.globals["gessin_kept_menu"] = kept_menu
    app.jinja_env.filters.update(
        gessin_when=when,
        gessin_date=dates.format_date,
        gessin_euro=euro,
        gessin_number=format_number,
        gessin_flash=plain_italian,
        gessin_badge=status_badge,
        gessin_status=lambda s: ClaimStatus.LABELS.get(s, s),
        gessin_role=lambda r: Role.LABELS.get(r, r),
    )
    app.extensions["gessin_admin"] = admin
    return admin
