"""Errors that actions raise when a rule forbids a change (illegal transition, limit reached…)."""

from __future__ import annotations


class ActionError(Exception):
    """A business rule refused the change. `code` is stable and machine-readable."""

    http_status = 409

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class IllegalTransition(ActionError):
    pass
