"""The call centre's queue limits (`QueueLimit`): a change applies to every open claim at once."""
from __future__ import annotations

import logging

from . import next_due

log = logging.getLogger("gessin.workflows")


def limit_changed(*statuses: str) -> int:
    """Recompute the next deadline of every open claim in `statuses` (the limit's old and new state)."""
    changed = 0
    for status in dict.fromkeys(s for s in statuses if s):
        changed += next_due.recompute_for_limit(status)
    return changed
