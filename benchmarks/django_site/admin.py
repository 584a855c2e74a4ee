"""The claims grid as a Django admin would write it: the columns of ours
(admin_views/claims.py `column_list`), its parties joined (`list_select_related`), filters on
the state and the four parties, received date newest first, the default action (so the
checkbox column). Two sites: Django's defaults, and "tuned" for large tables
(`show_full_result_count = False`: no second COUNT of the whole table)."""
from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import ngettext

from . import CENTRE_OF_USER
from .models import AspCentre, Claim, InsuranceCompany, Lawyer, Repairer

BADGES = {"received": "primary", "incomplete": "warning", "validated": "info", "assigned": "secondary",
          "filed": "dark", "partially_reimbursed": "light", "reimbursed": "success", "closed": "success",
          "dropped": "danger", "cancelled": "light"}
LEVELS = {"in_time": ("in tempo", "success"), "due_soon": ("in scadenza", "warning"),
          "overdue": ("scaduta", "danger")}
PARTIES = ("asp_centre", "repairer", "lawyer", "insurer")


def days(n: int) -> str:
    return ngettext("%(num)d giorno", "%(num)d giorni", n) % {"num": n}


class ClaimAdmin(admin.ModelAdmin):
    list_display = ("numero", "received_at", "repairer", "asp_centre", "lawyer", "stato", "prossima_scadenza",
                    "giorni_rimasti", "livello", "vehicle_a_plate", "insurer", "giorni_nello_stato")
    list_select_related = ("repairer", "asp_centre", "lawyer", "insurer")
    list_filter = ("status", *PARTIES)
    ordering = ("-received_at", "-id")
    search_fields = ("=number", "=vehicle_a_plate")

    def centre(self, request) -> int | None:
        return CENTRE_OF_USER.get(request.user.username)

    def get_queryset(self, request):
        """A centre's manager sees its centre's claims only, as ours does."""
        query = super().get_queryset(request)
        centre = self.centre(request)
        return query if centre is None else query.filter(asp_centre_id=centre)

    def get_list_filter(self, request):
        """A manager's party filters list only the parties of its claims (Django's
        RelatedOnlyFieldListFilter); the insurers are public reference data, all of them."""
        if self.centre(request) is None:
            return self.list_filter
        return ("status", *((name, admin.RelatedOnlyFieldListFilter) for name in PARTIES[:3]), "insurer")

    @admin.display(description="Numero", ordering="number")
    def numero(self, claim):
        if claim.possible_duplicates:
            return format_html('{} <span class="badge badge-warning" title="{}">!</span>', claim.number,
                               claim.possible_duplicates)
        return claim.number

    @admin.display(description="Stato", ordering="status")
    def stato(self, claim):
        return format_html('<span class="badge badge-{} status-{}">{}</span>', BADGES.get(claim.status, "secondary"),
                           claim.status, claim.get_status_display())

    @admin.display(description="Prossima scadenza", ordering="next_due_on")
    def prossima_scadenza(self, claim):
        if claim.next_due_on is None:
            return ""
        kind = claim.get_next_due_kind_display()
        return format_html('<span class="next-due" title="{}">{}</span><br><small class="text-muted">{}</small>',
                           kind, claim.next_due_on.strftime("%d/%m/%Y"), kind)

    @admin.display(description="Giorni rimasti", ordering="next_due_on")
    def giorni_rimasti(self, claim):
        if claim.next_due_on is None:
            return ""
        left = (claim.next_due_on - timezone.localdate()).days
        if left == 0:
            return "scade oggi"
        return f"scaduta da {days(-left)}" if left < 0 else days(left)

    @admin.display(description="Livello", ordering="next_due_on")
    def livello(self, claim):
        if claim.next_due_on is None:
            return ""
        today = timezone.localdate()
        level = ("overdue" if claim.next_due_on < today else
                 "due_soon" if claim.next_warn_on is not None and claim.next_warn_on <= today else "in_time")
        label, colour = LEVELS[level]
        return format_html('<span class="badge badge-{} level-{}">{}</span>', colour, level, label)

    @admin.display(description="Giorni nello stato", ordering="-status_since")
    def giorni_nello_stato(self, claim):
        since, now = claim.status_since, timezone.now()
        if timezone.is_naive(since):  # PostgreSQL's timestamp without time zone: UTC, as we store it
            now = now.replace(tzinfo=None)
        return days((now - since).days)


class TunedClaimAdmin(ClaimAdmin):
    show_full_result_count = False


class PartyAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


def site(name: str, claim_admin) -> admin.AdminSite:
    built = admin.AdminSite(name=name)
    built.site_header = built.site_title = "Gessin (Django admin)"
    built.register(Claim, claim_admin)
    for model in (Repairer, AspCentre, Lawyer, InsuranceCompany):
        built.register(model, PartyAdmin)
    return built


default_site = site("default", ClaimAdmin)
tuned_site = site("tuned", TunedClaimAdmin)
CLAIM_ADMINS = (default_site.get_model_admin(Claim), tuned_site.get_model_admin(Claim))
