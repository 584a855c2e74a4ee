"""Each work queue's count beside its name in the menu, scoped to the user.

Flask-Admin draws a menu item's text as `{{ item.name }}`, and Jinja asks a value for
its `__html__` first: the queue's menu item (`view.menu`, the public `MenuView` Flask-Admin
gives each view) gets a name that counts when it is drawn. The counts are read once per
request (`workflows.queues.counts`: two grouped statements) and kept in `flask.g`; a page
that draws no menu (an export, a JSON answer, a redirect) counts nothing.

On a large table those two statements cost tens of milliseconds, on every page a clerk
opens: each process keeps a user's counts for `MENU_COUNTS_SECONDS` (default 20; 0 counts
on every page), and forgets them as soon as that user changes something (any POST), so
one's own work shows at once and other people's within the interval.
"""
from __future__ import annotations

import threading
import time

from flask import current_app, g, request
from flask_babel import format_number
from flask_login import current_user
from markupsafe import Markup, escape

from workflows import next_due, queues

from .deadline_columns import today


_kept: dict[tuple, tuple[float, dict[str, int]]] = {}  # (user id, day) -> (until, counts)
_kept_lock = threading.Lock()


def queue_counts() -> dict[str, int]:
    """Slug -> claims the current user has in that queue, counted at most once per request
    and, across requests, once per `MENU_COUNTS_SECONDS`."""
    if "gessin_queue_counts" not in g:
        user = current_user._get_current_object()
        g.gessin_queue_counts = _kept_counts(user) if user.is_authenticated else {}
    return g.gessin_queue_counts


def _kept_counts(user) -> dict[str, int]:
    seconds, day = current_app.config.get("MENU_COUNTS_SECONDS", 20), today()
    key, now = (user.id, day), time.monotonic()
    with _kept_lock:
        kept = _kept.get(key)
    if seconds > 0 and kept is not None and kept[0] > now:
        return kept[1]
    counts = queues.counts(user, day)
    if seconds > 0:
        with _kept_lock:
            if len(_kept) > 10_000:  # users of other days, or many at once: start again
                _kept.clear()
            _kept[key] = (now + seconds, counts)
    return counts


def forget_after_a_change(response):
    """A user who changed something sees the counts afresh on the next page."""
    if request.method == "POST" and current_user.is_authenticated:
        with _kept_lock:
            for key in [k for k in _kept if k[0] == current_user.id]:
                del _kept[key]
    return response


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
