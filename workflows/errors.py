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
    """The data that comes with the event is missing or wrong.

    `errors` lists every (field, message) found, so a form shows them all at once;
    `message` and `field` are the first of them, for callers that say only one.
    """

    def __init__(self, message, field: str | None = None, errors: list[tuple[str | None, object]] | None = None):
        super().__init__(message, field)
        self.errors = list(errors) if errors else [(field, message)]


class FieldErrors:
    """Collects the errors of an event's data field by field, then raises them together.

        errors = FieldErrors()
        amount = errors.check(_amount, value)   # None, and the error kept, if it is wrong
        errors.add("note", _l("Scrivi una nota."))
        errors.raise_if_any()
    """

    def __init__(self):
        self.errors: list[tuple[str | None, object]] = []

    def check(self, read, *args, **kwargs):
        try:
            return read(*args, **kwargs)
        except InvalidData as exc:
            self.errors.extend(exc.errors)
            return None

    def add(self, field: str | None, message) -> None:
        self.errors.append((field, message))

    def has(self, field: str) -> bool:
        return any(name == field for name, _message in self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            field, message = self.errors[0]
            raise InvalidData(message, field, self.errors)


class Conflict(WorkflowError):
    """Someone changed the claim between reading it and acting on it."""


class StorageFull(WorkflowError):
    """The documents' storage has no room left: nothing of the upload was kept."""
