"""An operator held back from calls while previewing a lead (dialer/preview.py) who stops being available
(logs off, is paused, is rung) lets the lead go at once: it goes back to its list, due again, uncounted."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.dispatch import receiver

from agents.signals import reservation_lost

from . import preview

log = logging.getLogger(__name__)


@receiver(reservation_lost, dispatch_uid="dialer.release_previewed_lead")
def release_previewed_lead(sender: object, operator_id: int, **kwargs: object) -> None:
    """After the presence change's commit: a failure here must not fail it; the sweep lets the lead go."""
    try:
        preview.release_held(operator_id)
    except DatabaseError:
        log.exception("operator %s: the previewed lead is left to the sweep", operator_id)
