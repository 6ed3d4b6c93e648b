"""Celery tasks of the outgoing events. They take ids (or nothing), delegate to the actions and are safe to
run twice; timing is Celery beat's sweep over `next_attempt_at`, never an ETA."""

from __future__ import annotations

import logging

from celery import shared_task

from . import actions

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def sweep_deliveries_task(self) -> int:
    """Every second (beat): claim the due deliveries and queue one delivery task each, on the sweep's queue."""
    queue = (self.request.delivery_info or {}).get("routing_key") or None
    ids = actions.claim_due()  # committed: a task lost on the way is claimed again after the claim runs out
    for delivery_id in ids:
        deliver_event_task.apply_async((delivery_id,), queue=queue)
    return len(ids)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def deliver_event_task(self, delivery_id: int) -> int:
    """POST one delivery (and the due ones after it in its order). A failure that pauses the endpoint has
    the account's supervisors told by e-mail (a task on the same queue)."""
    outcome = actions.deliver(delivery_id)
    if outcome.paused is not None:
        queue = (self.request.delivery_info or {}).get("routing_key") or None
        try:
            notify_paused_task.apply_async((outcome.paused,), queue=queue)
        except Exception:  # the broker is down: the pause stands and the admin shows it
            log.exception("could not queue the pause notice of subscription %s", outcome.paused)
    return outcome.delivered


@shared_task(acks_late=True, ignore_result=True)
def notify_paused_task(subscription_id: int) -> bool:
    return actions.notify_paused(subscription_id)


@shared_task(acks_late=True, ignore_result=True)
def purge_deliveries_task() -> int:
    return actions.purge()
