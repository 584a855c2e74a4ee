"""The home page: how many claims the user may see are in each state."""
from __future__ import annotations

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from models import ClaimStatus
from workflows import access


class HomeView(AdminIndexView):
    def is_accessible(self):
        return current_user.is_authenticated

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("auth.login", next=request.full_path))

    @expose("/")
    def index(self):
        counts = access.status_counts(current_user._get_current_object())
        claims_view = self.admin.views_by_endpoint["claim"]
        rows = [(status, label, counts.get(status, 0), claims_view.status_filter_url(status))
                for status, label in ClaimStatus.CHOICES]
        return self.render("admin/home.html", counts=rows, total=sum(counts.values()))
