"""When presence makes an operator available, the ACD offers them a waiting call (after that commit)."""

from __future__ import annotations

from django.dispatch import receiver

from agents.signals import operator_available


@receiver(operator_available)
def dispatch_to_available_operator(sender, operator_id: int, **kwargs) -> None:
    from .actions import operator_ready

    operator_ready(operator_id)
