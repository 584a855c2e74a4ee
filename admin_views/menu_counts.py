"""Each work queue's count beside its name in the menu, scoped to the user.

Flask-Admin draws a menu item's text as `{{ item.name }}`, and Jinja asks a value for
its `__html__` first: the queue's menu item (`view.menu`, the public `MenuView` Flask-Admin
gives each view) gets a name that counts when it is drawn. The counts are read once per
request (`workflows.queues.counts`: two grouped statements) and kept in `flask.g`; a page
that draws no menu (an export, a JSON answer, a redirect) counts nothing.

The menu itself, drawn for a user on a view's pages (some forty items, each asking whether
the user may open it and building its link), is kept with the counts it shows: per user,
view and language, for the same interval, and forgotten with them.

On a large table those two statements cost tens of milliseconds, on every page a clerk
opens: they are kept per user (`admin_views/kept.py`) for `MENU_COUNTS_SECONDS` (default 20;
0 counts on every page), and forgotten as soon as that user changes something (any POST),
so one's own work shows at once and other people's within the interval.
"""
from __future__ import annotations

from flask_babel import format_number, get_locale
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup, escape

from workflows import next_due, queues

from .deadline_columns import today
from .kept import kept


def queue_counts() -> dict[str, int]:
    """Slug -> claims the current user has in that queue, counted at most once per request
    and, across requests, once per `MENU_COUNTS_SECONDS`."""
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return {}
    day = today()
    return kept("counts", day, lambda: queues.counts(user, day))


class CountedName:
    """A queue's menu text: its name and, as a badge, how many claims the user has in it."""

    def __init__(self, name, queue: queues.Queue):
        self.name, self.queue = name, queue

    def __str__(self) -> str:
        return str(self.name)

    def __html__(self) -> str:
        count = queue_counts().get(self.queue.slug)
        if count is None:
            return str(escape(str(self.name)))
        # a deadline's queue with claims in it takes its level's colour (red for Scadute)
        colour = next_due.LEVEL_BADGES[self.queue.level] if self.queue.level and count else "secondary"
        return Markup('{} <span class="badge badge-pill badge-{} menu-count" data-queue="{}">{}</span>').format(
            str(self.name), colour, self.queue.slug, format_number(count))


def count_in_menu(view) -> None:
    """Show the count of `view`'s queue beside its name in the menu (once the view is added)."""
    view.menu.name = CountedName(view.name, view.queue)


@pass_context
def kept_menu(context, draw) -> Markup:
    """The main menu as `draw()` (Flask-Admin's `layout.menu` macro) gives it for this page's
    view, drawn once per user, view and language while the counts it shows are kept."""
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return draw()
    view = context.get("admin_view")
    return kept("counts", ("menu", getattr(view, "endpoint", None), str(get_locale())), draw)
