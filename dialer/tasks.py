"""Celery tasks of the dialer. Tasks take ids (or nothing) and delegate to the pacer and the actions; running
one twice is safe (the campaign's lease, the attempt's conditional claim). Timing is Celery beat's, never
an ETA."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from . import actions, pacer, preview
from .lead_imports import import_leads_task, resume_stalled_imports_task

__all__ = ["import_leads_task", "resume_stalled_imports_task"]  # registered with the dialer's tasks


@shared_task(acks_late=True, ignore_result=True)
def place_attempt_task(attempt_id: int) -> bool:
    """Dial one attempt. A redelivery (Redis redelivers unacknowledged tasks) finds it claimed: no second dial."""
    return actions.place_attempt(attempt_id) is not None


@shared_task(bind=True, acks_late=True, ignore_result=True)
def pace_campaign_task(self, campaign_id: int) -> int:
    """One placement tick of one campaign (only the lease holder places). Its originates go to the queue the
    tick came from, one task per attempt."""
    queue = (self.request.delivery_info or {}).get("routing_key") or None
    tick = pacer.place_tick(campaign_id)
    for attempt_id in tick.placed:
        transaction.on_commit(lambda a=attempt_id: place_attempt_task.apply_async((a,), queue=queue))
    return len(tick.placed)


@shared_task(ignore_result=True)
def pace_campaigns_task() -> int:
    """Every second (Celery beat): a placement tick for each running campaign."""
    ids = pacer.running_campaign_ids()
    for campaign_id in ids:
        pace_campaign_task.delay(campaign_id)
    return len(ids)


@shared_task(ignore_result=True)
def estimate_campaigns_task() -> int:
    """Every 15 s (Celery beat): the estimation loop of each running campaign; the attempts of paused ones
    still follow their calls; leads held in preview too long (or by an operator who left) go back."""
    ids = pacer.running_campaign_ids()
    for campaign_id in ids:
        pacer.estimate_campaign(campaign_id)
    for campaign_id in pacer.campaigns_with_open_attempts():
        actions.sync_attempts(campaign_id)
    preview.release_stale_holds()
    return len(ids)
