"""What an event does to a claim, worked out by its preparer before anything is written."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from models import Claim


@dataclass
class Change:
    """The target state (None: keep it), the columns to set, the history note, rows to
    write in the same transaction (`after`), and addresses told besides the claim's
    parties as saved (`also_notify`: e.g. the parties a transfer takes the file from)."""

    target: str | None = None
    updates: dict = field(default_factory=dict)
    note: str | None = None
    after: Callable[[Claim], None] | None = None
    also_notify: list[str] = field(default_factory=list)
