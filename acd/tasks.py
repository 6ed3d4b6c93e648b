"""Celery tasks of the ACD. Tasks take ids (or nothing) and delegate to actions; running one twice is safe."""

from __future__ import annotations

from celery import shared_task

from . import actions
from .voicemail import send_voicemail_email_task

__all__ = ["send_voicemail_email_task", "sweep_timers_task"]  # the voicemail task lives with its action


@shared_task(acks_late=True, ignore_result=True)
def sweep_timers_task() -> int:
    """Every second (Celery beat): ring timeouts, wrap-up ends, back-offs, maximum waits and escalations.

    The timers are database timestamps, never Celery ETAs, so a redelivered or overlapping sweep finds each
    due item under its row lock, re-checks it and does nothing the second time.
    """
    return actions.sweep()
