"""What an event does to a claim, worked out by its preparer before anything is written."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from models import Claim


@dataclass
class Change:
    """The target state (None: keep it), the columns to set, the history note, what else to
    write in the same transaction (`after`: a payment row, an e-mail...), and the claim's
    demands and suspensions once `after` has written them (`facts`; None: unchanged)."""

    target: str | None = None
    updates: dict = field(default_factory=dict)
    note: str | None = None
    after: Callable[[Claim], None] | None = None
    facts: object = None  # workflows.term_facts.TermFacts
