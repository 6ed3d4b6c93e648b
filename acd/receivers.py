"""When presence makes an operator available, the ACD offers them a waiting call (after that commit)."""

from __future__ import annotations

from django.dispatch import receiver

from agents.signals import operator_available

from .actions import operator_ready


@receiver(operator_available)
def dispatch_to_available_operator(sender: object, operator_id: int, account_id: int | None = None,
                                   **kwargs: object) -> None:
    operator_ready(operator_id, account_id)
