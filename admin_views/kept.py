"""What every page of a user draws from a few statements, and seldom changes, kept per user.

The menu with the queues' counts, the filters' drop-downs and the bulk panel's lawyers cost
a statement each on every page a clerk opens, tens of milliseconds on a large table. Each
is read at most once per request (kept in `flask.g`) and, across requests, once per a
number of seconds set per kind (`MENU_COUNTS_SECONDS`, default 20, for the counts;
`CHOICES_SECONDS`, default 60, for the drop-downs; 0 reads on every page), in each process.

What is kept is forgotten when it may have changed:
- the user's own POST forgets all that user's values, so one's own work shows at once;
- a POST to a grid that changes what the drop-downs list or what a user may see (a view
  with `changes_choices`: body shops, centres, lawyers, insurers, users, their links)
  forgets everything kept, for everyone, in this process.
Other processes see a change within the interval. Only names, counts and the menu are kept:
what a user may open or change is decided on every request by `workflows.access`, never
from here.
"""
from __future__ import annotations

import threading
import time
import typing as t

from flask import current_app, g, request
from flask_login import current_user

T = t.TypeVar("T")

COUNTS = ("MENU_COUNTS_SECONDS", 20)
CHOICES = ("CHOICES_SECONDS", 60)
KINDS = {"counts": COUNTS, "choices": CHOICES}
MAX_KEPT = 5_000  # values across users (a menu is some 10 KB): past it, the expired go, or else all

_kept: dict[tuple, tuple[float, object]] = {}  # (user id, kind, key) -> (until, value)
_kept_lock = threading.Lock()


def kept(kind: str, key: t.Hashable, read: t.Callable[[], T]) -> T:
    """`read()` for the current user, at most once per request and, across requests, once per
    the seconds of `kind` ("counts" or "choices"); `key` tells apart the values of a kind."""
    memo = g.setdefault("gessin_kept", {})
    if (kind, key) in memo:
        return memo[(kind, key)]
    setting, default = KINDS[kind]
    seconds = current_app.config.get(setting, default)
    user_key, now = (current_user.get_id(), kind, key), time.monotonic()
    with _kept_lock:
        found = _kept.get(user_key)
    if seconds > 0 and found is not None and found[0] > now:
        value = found[1]
    else:
        value = read()
        if seconds > 0:
            with _kept_lock:
                if len(_kept) >= MAX_KEPT:
                    for expired in [k for k, (until, _value) in _kept.items() if until <= now]:
                        del _kept[expired]
                    if len(_kept) >= MAX_KEPT:
                        _kept.clear()
                _kept[user_key] = (now + seconds, value)
    memo[(kind, key)] = value
    return value


def forget(user_id=None) -> None:
    """Forget what is kept for `user_id` (None: for every user)."""
    with _kept_lock:
        for found in [k for k in _kept if user_id is None or k[0] == user_id]:
            del _kept[found]


def forget_after_a_change(response):
    """After a POST: the user's own values, and everyone's when the grid posted to changes
    what the drop-downs list or what a user may see."""
    if request.method == "POST" and current_user.is_authenticated:
        forget(current_user.get_id())
        views = current_app.extensions["gessin_admin"].views_by_endpoint
        if getattr(views.get(request.blueprint), "changes_choices", False):
            forget()  # a party, a user's role or centre: what anyone may see can change
    return response
