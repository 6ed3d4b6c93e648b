"""Celery tasks of presence. Tasks take ids (or nothing) and delegate to actions; running one twice is safe."""

from __future__ import annotations

from celery import shared_task

from . import actions


@shared_task(acks_late=True, ignore_result=True)
def logoff_unattended_consoles_task() -> int:
    """Every few seconds (Celery beat): log off operators whose last console closed a grace period ago.

    The due moment is a database timestamp (`ConsolePresence.logoff_due_at`), never a Celery ETA: a
    redelivered or overlapping run re-checks each operator under its row lock and does nothing twice.
    """
    return actions.logoff_unattended_consoles()


@shared_task(acks_late=True, ignore_result=True)
def expire_phone_registrations_task() -> int:
    """Every few seconds (Celery beat, SIP backend): log off operators whose SIP phone registration lapsed,
    by database timestamp (`SipRegistration.expires_at`), never a Celery ETA; a second run does nothing twice."""
    return actions.expire_phone_registrations()
