"""The errors a workflow raises: each carries an Italian, translatable message."""
from __future__ import annotations


class WorkflowError(Exception):
    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class NotAllowed(WorkflowError):
    """The event does not apply to this claim, in this state, for this user."""


class InvalidData(WorkflowError):
    """The data that comes with the event is missing or wrong."""


class Conflict(WorkflowError):
    """Someone changed the claim between reading it and acting on it."""
