"""Celery tasks of the ACD. Tasks take ids (or nothing) and delegate to actions; running one twice is safe."""

from __future__ import annotations

from celery import shared_task

from . import actions
from .voicemail import send_voicemail_email_task

# The voicemail task lives with its action.
__all__ = ["reconcile_leases_task", "send_voicemail_email_task", "sweep_timers_task"]


@shared_task(acks_late=True, ignore_result=True)
def sweep_timers_task() -> int:
    """Every second (Celery beat): ring timeouts, wrap-up ends, back-offs, maximum waits and escalations.

    The timers are database timestamps, never Celery ETAs, so a redelivered or overlapping sweep finds each
    due item under its row lock, re-checks it and does nothing the second time.
    """
    return actions.sweep()


@shared_task(acks_late=True, ignore_result=True)
def reconcile_leases_task() -> int:
    """Every LEASE_RECONCILE_SECONDS (Celery beat): free the channels of calls that are over and end the calls
    whose engine went silent (the budget finds the stale leases, the repair flow ends the calls). Safe to run
    twice or beside a late hangup: the call is ended under its lock, the lease released conditionally."""
    return actions.reconcile_leases()
