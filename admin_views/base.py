"""The base every Gessin grid stands on: login, roles, scope, and no N+1 queries.

Flask-Admin's peewee backend reads rows with `Model.get` and deletes in bulk with
its own query; both would step around the user's scope, so this class routes
every read (list, count, detail, edit, delete, export, form pickers, filter
options) through the scoped query of `workflows.access`.
"""
from __future__ import annotations

import datetime as dt
import logging
import typing as t

import peewee as pw
from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_admin.actions import action
from flask_admin.contrib.peewee import ModelView
from flask_admin.contrib.peewee.tools import parse_like_term
from flask_admin.model import typefmt
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from models import MAX_ID, InvalidValue, Role, explain_integrity_error, parse_id
from workflows import dates

from .csv_export import ItalianCsvExport, export_cell
from .fields import GessinModelConverter
from .filters import ScopedOptionsFilter
from .form_base import GessinForm
from .form_limits import with_column_limits
from .list_chrome import PageChrome
from .list_rows import PageRows
from .urls import KeptStaticUrls

log = logging.getLogger("gessin.admin")


def _shown_moment(view, value, name):
    return dates.format_moment(value)


class GessinModelView(KeptStaticUrls, ItalianCsvExport, ModelView):
    """A grid limited to the logged-in user's roles and scope."""

    # Any date or moment a grid or a details page shows without a formatter of its own: gg/mm/aaaa, Rome time.
    column_type_formatters = {**typefmt.BASE_FORMATTERS, dt.date: _shown_moment}
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, dt.date: _shown_moment}

    # Roles that may open this grid, and those that may change its rows.
    roles: tuple[str, ...] = (Role.ADMIN,)
    edit_roles: tuple[str, ...] = (Role.ADMIN,)
    create_roles: tuple[str, ...] = (Role.ADMIN,)
    delete_roles: tuple[str, ...] = ()

    # Related models fetched in the same query as the rows (no N+1).
    list_select_related: tuple = ()
    # What the list page's cells read: its model fields (None: all) and, of each related model,
    # the fields named here (None: all). The export, the forms and the details read every field.
    list_fields: tuple | None = None
    list_related_fields: tuple[str, ...] | None = None
    # Foreign keys of `list_select_related` whose name alone the list page shows: read by a
    # subquery of the rows' own SELECT, into `<key>_name` (`formatters.related_name` draws it),
    # rather than joined. PostgreSQL plans a join of five tables anew on every page, some 1.5 ms;
    # four such subqueries take it 0.2.
    list_related_names: tuple = ()
    # Its list template draws the rows, header and pager from `page_rows` / `page_chrome`
    # (templates/admin/claim_list.html); Flask-Admin's own list.html does not use them.
    list_drawn_here = False
    # Sortable columns whose empty cells come after the others, in both directions.
    column_sort_nulls_last: tuple[str, ...] = ()
    # Sortable columns shown as time since the date they sort by ("Giorni nello stato"):
    # descending means the most days first, i.e. the oldest date.
    column_sort_inverted: tuple[str, ...] = ()
    # Foreign keys in forms: field name -> function(user) giving the allowed rows.
    form_scopes: dict[str, t.Callable] = {}

    form_base_class = GessinForm
    model_form_converter = GessinModelConverter  # amounts and dates typed and shown the Italian way, in every form
    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100)
    can_view_details = True
    details_modal = False
    export_types = ["csv"]

    def __init__(self, model, *args, **kwargs):
        self.form_args = with_column_limits(model, self.form_args)  # read when the forms are built, below
        super().__init__(model, *args, **kwargs)

    # ---- who may come in -------------------------------------------------
    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.role in self.roles

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    def _role_in(self, roles) -> bool:
        return current_user.is_authenticated and current_user.role in roles

    @property
    def can_edit(self):
        return self._role_in(self.edit_roles)

    @property
    def can_create(self):
        return self._role_in(self.create_roles)

    @property
    def can_delete(self):
        return self._role_in(self.delete_roles)

    @property
    def can_export(self):
        return current_user.is_authenticated

    # ---- what they may see -----------------------------------------------
    def scoped_query(self, user, *fields):
        """The rows `user` may see (read with `fields`, or all when none: a grid that sets
        `list_fields` takes them); every grid overrides it."""
        raise NotImplementedError

    def get_query(self):
        user = current_user._get_current_object()
        fields = self.read_fields()
        return self.scoped_query(user, *fields) if fields else self.scoped_query(user)

    def on_list_page(self) -> bool:
        return request.endpoint == f"{self.endpoint}.index_view"

    def read_fields(self) -> tuple:
        """The model fields the rows are read with: on the list page those its cells show
        (`list_fields`), elsewhere () for all."""
        return self.list_fields if self.list_fields and self.on_list_page() else ()

    def get_one(self, id):
        pk = parse_id(id)
        if pk is None:
            abort(404)
        row = self.get_query().where(self.model._meta.primary_key == pk).first()
        if row is None:
            abort(404)
        return row

    def _with_related(self, query):
        """Join each foreign key in `list_select_related` so rows carry their parties; on the list
        page, read the name of those in `list_related_names` by a subquery instead."""
        names = self.list_related_fields if self.read_fields() else None
        by_subquery = {fk.name for fk in self.list_related_names} if names is not None else set()
        for fk in self.list_select_related:
            if fk.name in by_subquery:
                party = fk.rel_model
                query = query.select_extend(
                    party.select(party.name).where(party.id == fk).alias(f"{fk.name}_name"))
                continue
            target = fk.rel_model.alias()
            columns = [getattr(target, f.name) for f in fk.rel_model._meta.sorted_fields
                       if names is None or f.name in names]
            query = (query.select_extend(*columns).switch(self.model)
                     .join(target, pw.JOIN.LEFT_OUTER, on=(fk == target.id), attr=fk.name))
        return query

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        if page and (page < 0 or page * (page_size or self.page_size or 1) > MAX_ID):
            abort(404, _("Pagina non trovata: l'elenco non ha così tante pagine."))
        query = self.get_query()

        if self.column_searchable_list and search:
            for word in filter(None, search.split(" ")):
                query = query.where(self.search_clause(word))

        for index, _name, value in filters or ():
            flt = self.get_filters()[index]
            query = flt.apply(query, flt.clean(value))

        # not counted for a caller that takes the query itself (execute=False: it counts, or not, on its own)
        count = self.list_count(query) if execute and not self.simple_list_pager else None

        query = self._with_related(query)
        sortable = self.sortable_fields()
        if sort_column is not None and sort_column in sortable:
            field = sortable[sort_column]
            field = getattr(self.model, field) if isinstance(field, str) else field
            nulls = "LAST" if sort_column in self.column_sort_nulls_last else None
            if sort_column in self.column_sort_inverted:  # a column showing days since the date it sorts by
                sort_desc = not sort_desc
            query = query.order_by(field.desc(nulls=nulls) if sort_desc else field.asc(nulls=nulls),
                                   self.model._meta.primary_key.desc())
        else:  # no sort asked for, or a column that cannot be sorted
            order = self.default_order()
            if order:
                query = query.order_by(*[
                    (getattr(self.model, f) if isinstance(f, str) else f).desc() if desc
                    else (getattr(self.model, f) if isinstance(f, str) else f).asc()
                    for f, desc in order
                ])

        page_size = self.page_size if page_size is None else page_size
        if page_size:
            query = query.limit(page_size)
            if page:
                query = query.offset(page * page_size)

        return count, (list(query) if execute else query)

    def list_count(self, query) -> int | None:
        """How many rows the list has; on a list page, once past `LIST_COUNT_CAP` (0: never) no
        more are counted: None, and Flask-Admin draws its plain pager (previous, next). The
        count of a long list costs a read of every row, at every page; `count_over()` says
        the list is longer than the cap."""
        cap = current_app.config.get("LIST_COUNT_CAP", 0) if self.on_list_page() else 0
        g.gessin_count_over = None
        if not cap:
            return query.order_by().count()
        count = query.order_by().limit(cap + 1).count()
        if count <= cap:
            return count
        g.gessin_count_over = cap
        return None

    def count_over(self) -> int | None:
        """The cap this page's list is longer than (`list_count`), or None when it was counted."""
        return g.get("gessin_count_over")

    def get_column_name(self, field):
        """A column's label: the view's own, else the model field's Italian verbose_name (never "Locked Until")."""
        if self.column_labels and field in self.column_labels:
            return self.column_labels[field]
        model_field = self.model._meta.fields.get(field) if isinstance(field, str) else None
        if model_field is not None and model_field.verbose_name:
            return model_field.verbose_name
        return super().get_column_name(field)

    search_hint = None

    def search_placeholder(self):
        """Flask-Admin's peewee backend has none: say what the search box looks in."""
        if self.search_hint:
            return str(self.search_hint)
        names = [str(self.column_labels.get(f.name, f.verbose_name or f.name)) for f in self.search_fields()]
        return _("Cerca in: %(fields)s", fields=", ".join(names)) if names else ""

    def search_clause(self, word: str):
        """Rows matching one searched word: any searchable column contains it."""
        term = parse_like_term(word)
        clause = None
        for field in self.search_fields():
            clause = field ** term if clause is None else clause | (field ** term)
        return clause

    # ---- what Flask-Admin keeps to itself, read from its public API once -----
    # (its own caches are private attributes, which change without notice on an upgrade)
    def get_filters(self):
        """Flask-Admin's filters, built once: the same instances every time it or we ask."""
        if not hasattr(self, "gessin_filters"):
            self.gessin_filters = super().get_filters() or []
        return self.gessin_filters

    def filter_args(self) -> dict[str, tuple[int, object]]:
        """The URL name of each filter (`flt0_<name>`) -> (its index, the filter)."""
        if not hasattr(self, "gessin_filter_args"):
            self.gessin_filter_args = {self.get_filter_arg(i, flt): (i, flt) for i, flt in enumerate(self.get_filters())}
        return self.gessin_filter_args

    def sortable_fields(self) -> dict:
        if not hasattr(self, "gessin_sortable"):
            self.gessin_sortable = self.get_sortable_columns()
        return self.gessin_sortable

    def search_fields(self) -> list:
        return [getattr(self.model, f) if isinstance(f, str) else f for f in self.column_searchable_list or ()]

    def default_order(self) -> list[tuple[object, bool]]:
        """`column_default_sort` as (field or name, descending) pairs."""
        sort = self.column_default_sort
        if not sort:
            return []
        if isinstance(sort, (str, pw.Field)):
            return [(sort, False)]
        if isinstance(sort, tuple) and len(sort) == 2 and isinstance(sort[1], bool):
            return [sort]
        return [(item, False) if not isinstance(item, tuple) else item for item in sort]

    def render(self, template, **kwargs):
        """The filter drop-downs that depend on the user list only what this user may see
        (Flask-Admin computes every drop-down once, when the view is made)."""
        groups = kwargs.get("filter_groups")
        if groups:
            filters = self.get_filters()
            kwargs["filter_groups"] = {
                label: [{**item, "options": filters[item["index"]].current_options()}
                        if isinstance(filters[item["index"]], ScopedOptionsFilter) else item for item in items]
                for label, items in groups.items()}
        if self.list_drawn_here and "list_row_actions" in kwargs and "return_url" in kwargs:  # what its rows share
            kwargs["page_rows"] = PageRows(self, kwargs["return_url"], kwargs["list_row_actions"],
                                           kwargs.get("list_columns", ()), bool(kwargs.get("actions")))
            if "sort_url" in kwargs and "pager_url" in kwargs:
                kwargs["page_chrome"] = PageChrome(self, kwargs)
        return super().render(template, **kwargs)

    # ---- forms: pickers list only what the user may see --------------------
    def _limit_pickers(self, form):
        user = current_user._get_current_object()
        for name, scope in self.form_scopes.items():
            field = getattr(form, name, None)
            if field is not None and hasattr(field, "query"):
                field.query = scope(user)
        return form

    def create_form(self, obj=None):
        return self._limit_pickers(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._limit_pickers(super().edit_form(obj))

    def on_model_change(self, form, model, is_created):
        """Refuse a picked row outside the user's scope, even if posted by hand."""
        user = current_user._get_current_object()
        for name, scope in self.form_scopes.items():
            value_id = getattr(model, f"{name}_id", None)
            if value_id is not None and not scope(user).where(scope(user).model._meta.primary_key == value_id).exists():
                raise ValueError(_("Valore non consentito nel campo %(field)s.",
                                   field=self.column_labels.get(name, name)))

    # ---- export: text a spreadsheet would run as a formula is neutralised ----
    # (then dates, amounts, flags and choices are written the way Italian Excel reads them)
    def get_export_value(self, model, name):
        return export_cell(self.model, name, super().get_export_value(model, name))

    # ---- a refused save: the sentence by its field, the form again with the values ----
    def create_model(self, form):
        g.gessin_form = form  # for handle_view_exception, which Flask-Admin calls without it
        return super().create_model(form)

    def update_model(self, form, model):
        g.gessin_form = form
        return super().update_model(form, model)

    def handle_view_exception(self, exc):
        """A model's InvalidValue or the database's refusal: told in Italian, never the exception text."""
        if isinstance(exc, ValueError) and not isinstance(exc, InvalidValue):
            exc = InvalidValue(None, str(exc))  # ours (on_model_change) and WTForms' are already Italian
        elif not isinstance(exc, (InvalidValue, pw.IntegrityError)):
            log.exception("%s: save failed", self.model.__name__)
            exc = InvalidValue(None, _l("I dati non sono stati salvati: riprova tra poco."))
        self.refuse_save(g.get("gessin_form"), exc)
        return True

    def refuse_save(self, form, exc) -> bool:
        """Tell why a save was refused: under its field when the form has it, else on top. Returns False."""
        if isinstance(exc, pw.IntegrityError):
            exc = explain_integrity_error(self.model, exc)
        message = str(getattr(exc, "message", exc))
        name = getattr(exc, "field", None)
        field = form[name] if form is not None and name and name in form else None
        if field is not None:
            field.errors = [*field.errors, message]
            flash(_("Non salvato: correggi i campi segnalati."), "error")
        else:
            flash(message, "error")
        return False

    # ---- actions on ticked rows: ids checked once, for every action ------------
    def handle_action(self, return_view=None):
        if any(parse_id(row_id) is None for row_id in request.form.getlist("rowid")):
            abort(400, _("Le righe scelte non sono valide: ricarica l'elenco e riprova."))
        return super().handle_action(return_view)

    # ---- bulk delete through the scope, not around it ----------------------
    @action("delete", _l("Elimina"), _l("Eliminare le righe selezionate?"))
    def action_delete(self, ids):
        if not self.can_delete:
            abort(403)
        pk = self.model._meta.primary_key
        count = 0
        for row in self.get_query().where(pk.in_([int(i) for i in ids])):
            self.on_model_delete(row)
            row.delete_instance()
            self.after_model_delete(row)  # as a single delete does (a queue limit's recompute)
            count += 1
        flash(ngettext("%(num)d scheda eliminata.", "%(num)d schede eliminate.", count), "success")
