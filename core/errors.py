"""Errors that actions raise when a rule forbids a change (illegal transition, limit reached…)."""

from __future__ import annotations


class ActionError(Exception):
    """A business rule refused the change. `code` is stable and machine-readable."""

    http_status = 409

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field  # the input the message is about, when it is about one

    def as_dict(self) -> dict[str, str]:
        """The one JSON error shape of the API and the pages' buttons."""
        body = {"code": self.code, "detail": self.message}
        if self.field:
            body["field"] = self.field
        return body


class IllegalTransition(ActionError):
    pass


class MissingInput(ActionError):
    """A choice the rule requires was not made (e.g. a pause reason): the request is incomplete, not refused
    by the state of things."""

    http_status = 400
