"""Every change to subscriptions and deliveries: the sweep's claim, one delivery's POST and its outcome,
re-sends, pausing and resuming, and the retention purge.

Timing is the rows' own: a delivery is due at `next_attempt_at` (never a Celery ETA), the beat-driven sweep
claims due rows with `SELECT … FOR UPDATE SKIP LOCKED` and pushes their `next_attempt_at` past the longest
exchange, so a lost task is claimed again later and two sweeps never take the same row. A call's (an
operator's) events go out in the order recorded: a delivery waits while an earlier one with its
`order_key` is still pending.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext as _

from accounts.models import AccountMember
from core import netguard
from core.clock import now
from core.outgoing import EventType, OutgoingEvent

from . import signing
from .choices import DeliveryState
from .models import Delivery, DeliveryAttempt, Subscription, new_secret
from .outbox import envelope

log = logging.getLogger(__name__)
CHAIN_LIMIT = 50  # a delivered event sends the next of its order at once, up to this many in one task


def claim_seconds() -> float:
    """How long a claimed delivery is left to its task before the sweep may claim it again."""
    return settings.OUTGOING_EVENTS_CONNECT_TIMEOUT + settings.OUTGOING_EVENTS_READ_TIMEOUT + 30


def backoff_seconds(attempts: int) -> float:
    """Exponential: base, 2×base, 4×base… after the 1st, 2nd, 3rd failure, capped."""
    return min(settings.OUTGOING_EVENTS_RETRY_BASE_SECONDS * 2 ** (attempts - 1),
               settings.OUTGOING_EVENTS_RETRY_MAX_SECONDS)


def _earlier_pending() -> Exists:
    return Exists(Delivery.objects.filter(subscription_id=OuterRef("subscription_id"), order_key=OuterRef("order_key"),
                                          state=DeliveryState.PENDING, pk__lt=OuterRef("pk")))


def _deliverable() -> Q:
    return Q(state=DeliveryState.PENDING, subscription__is_active=True, subscription__paused_at__isnull=True)


@transaction.atomic
def claim_due(limit: int = 200) -> list[int]:
    """The due deliveries, claimed (their next attempt pushed past the longest exchange): the sweep queues a
    delivery task for each after the commit."""
    at = now()
    due = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
           .filter(_deliverable(), next_attempt_at__lte=at)
           .exclude(Q(~Q(order_key="")) & _earlier_pending())
           .order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])
    ids = list(due)
    if ids:
        Delivery.objects.filter(pk__in=ids).update(next_attempt_at=at + dt.timedelta(seconds=claim_seconds()))
    return ids


@dataclass
class Outcome:
    delivered: int = 0
    paused: int | None = None  # the subscription this run paused (its supervisors are to be told)


def deliver(delivery_id: int) -> Outcome:
    """POST one delivery (and, once it is delivered, the next ones of its order that are due). Safe to run
    twice: a delivery locked by another task, no longer pending, or behind an earlier one of its order is
    left alone."""
    outcome = Outcome()
    next_id: int | None = delivery_id
    while next_id is not None and outcome.delivered < CHAIN_LIMIT:
        ok, next_id = _deliver_one(next_id, outcome)
        if not ok:
            break
        outcome.delivered += 1
    return outcome


@transaction.atomic
def _deliver_one(delivery_id: int, outcome: Outcome) -> tuple[bool, int | None]:
    """The row stays locked during the exchange (bounded by the timeouts), so no second task sends it."""
    delivery = (Delivery.objects.select_for_update(skip_locked=True, of=("self",)).select_related("subscription")
                .filter(_deliverable(), pk=delivery_id).first())
    if delivery is None or (delivery.order_key and Delivery.objects.filter(
            subscription_id=delivery.subscription_id, order_key=delivery.order_key, state=DeliveryState.PENDING,
            pk__lt=delivery.pk).exists()):
        return False, None
    subscription = delivery.subscription
    status, error, answer, took_ms = _post(subscription, delivery)
    at = now()
    DeliveryAttempt.objects.create(delivery=delivery, at=at, status=status, error=error[:300],
                                   response=answer[:500], duration_ms=took_ms)
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_status, delivery.last_error = at, status, error[:300]
    if not error:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = DeliveryState.DELIVERED, at, None
        delivery.save()
        if subscription.consecutive_failures:
            Subscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
        following = (Delivery.objects.filter(_deliverable(), subscription_id=subscription.pk, pk__gt=delivery.pk,
                                             order_key=delivery.order_key, next_attempt_at__lte=at)
                     .order_by("pk").values_list("pk", flat=True).first() if delivery.order_key else None)
        return True, following
    gave_up = delivery.attempts >= settings.OUTGOING_EVENTS_MAX_ATTEMPTS
    if gave_up:
        delivery.state, delivery.next_attempt_at = DeliveryState.FAILED, None
    else:
        delivery.next_attempt_at = at + dt.timedelta(seconds=backoff_seconds(delivery.attempts))
    delivery.save()
    Subscription.objects.filter(pk=subscription.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    failures = Subscription.objects.values_list("consecutive_failures", flat=True).get(pk=subscription.pk)
    if gave_up or failures >= settings.OUTGOING_EVENTS_PAUSE_AFTER_FAILURES:
        why = (_("A delivery failed %(n)d times; last: %(error)s") % {"n": delivery.attempts, "error": error}
               if gave_up else _("%(n)d deliveries failed in a row; last: %(error)s") % {"n": failures,
                                                                                         "error": error})
        if pause(subscription.pk, why[:300]):
            outcome.paused = subscription.pk
    return False, None


def _post(subscription: Subscription, delivery: Delivery) -> tuple[int | None, str, str, int]:
    """(status, error, the answer's start, milliseconds): error is empty only for a 2xx answer."""
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = signing.headers(subscription.secret, delivery.webhook_id, int(now().timestamp()), body)
    excerpt = bytearray()
    started = time.monotonic()
    status: int | None = None
    try:
        status = netguard.post(subscription.url, body, headers,
                               connect_timeout=settings.OUTGOING_EVENTS_CONNECT_TIMEOUT,
                               read_timeout=settings.OUTGOING_EVENTS_READ_TIMEOUT, max_response_bytes=16384,
                               allow_private=settings.OUTGOING_EVENTS_ALLOW_PRIVATE,
                               allowed_hosts=settings.OUTGOING_EVENTS_ALLOWED_HOSTS, excerpt=excerpt)
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    except netguard.UnsafeURL as exc:
        error = f"refused: {exc}"
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    took_ms = int((time.monotonic() - started) * 1000)
    return status, error, excerpt.decode(errors="replace"), took_ms


def pause(subscription_id: int, reason: str) -> bool:
    """Stop delivering to a failing endpoint (events keep being recorded); True if this call paused it (the
    caller then has the supervisors told: `notify_paused`)."""
    paused = Subscription.objects.filter(pk=subscription_id, paused_at__isnull=True).update(
        paused_at=now(), pause_reason=reason, notified_at=None)
    if paused:
        log.warning("webhook subscription %s paused: %s", subscription_id, reason)
    return bool(paused)


@transaction.atomic
def notify_paused(subscription_id: int) -> bool:
    """E-mail the account's supervisors (and its duty address) that the endpoint was paused; once per pause."""
    subscription = (Subscription.objects.select_for_update().select_related("account")
                    .filter(pk=subscription_id, paused_at__isnull=False, notified_at__isnull=True).first())
    if subscription is None:
        return False
    account = subscription.account
    emails = sorted({e for e in AccountMember.objects.filter(account=account).values_list("user__email", flat=True)
                     if e} | ({account.duty_email} if account.duty_email else set()))
    if emails:
        send_mail(_("Webhook paused: %(url)s") % {"url": subscription.url[:100]},
                  _("Deliveries of %(account)s's events to %(url)s were paused because the endpoint kept failing "
                    "(%(why)s). Events are kept; resume the subscription in the admin (Outgoing events) or with "
                    "POST /api/v1/webhooks/%(id)d/resume/ once the endpoint answers 2xx again.")
                  % {"account": account.name, "url": subscription.url, "why": subscription.pause_reason,
                     "id": subscription.pk},
                  settings.DEFAULT_FROM_EMAIL, emails, fail_silently=False)
    subscription.notified_at = now()
    subscription.save(update_fields=["notified_at"])
    return True


@transaction.atomic
def resume(subscription_id: int) -> Subscription:
    """Deliver again: the waiting events go at once, in their order."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    subscription.paused_at, subscription.pause_reason, subscription.consecutive_failures = None, "", 0
    subscription.is_active = True
    subscription.save(update_fields=["paused_at", "pause_reason", "consecutive_failures", "is_active"])
    Delivery.objects.filter(subscription=subscription, state=DeliveryState.PENDING).update(next_attempt_at=now())
    return subscription


@transaction.atomic
def resend(delivery_ids: list[int], account_id: int | None) -> int:
    """Send these deliveries again (the same webhook-id, so a receiver that has it can tell), from attempt 1.
    `account_id`: only that account's (None: a superuser's choice)."""
    rows = Delivery.objects.filter(pk__in=delivery_ids)
    if account_id is not None:
        rows = rows.filter(account_id=account_id)
    return rows.update(state=DeliveryState.PENDING, attempts=0, next_attempt_at=now(), delivered_at=None)


@transaction.atomic
def rotate_secret(subscription_id: int) -> Subscription:
    subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret"])
    return subscription


@transaction.atomic
def send_test(subscription_id: int) -> Delivery:
    """A `webhook.test` event for this subscription alone (the integrator checks their receiver)."""
    subscription = Subscription.objects.get(pk=subscription_id)
    at = now()
    event = OutgoingEvent(subscription.account_id, EventType.TEST, {"subscription_id": subscription.pk})
    return Delivery.objects.create(account_id=subscription.account_id, subscription=subscription,
                                   event_type=EventType.TEST, payload=envelope(event, at.isoformat()),
                                   created_at=at, next_attempt_at=at)


def purge(batch: int = 5000) -> int:
    """Deliveries older than OUTGOING_EVENTS_RETENTION_DAYS (whatever their state), with their attempts, in
    bounded batches."""
    cutoff = now() - dt.timedelta(days=settings.OUTGOING_EVENTS_RETENTION_DAYS)
    purged = 0
    while True:
        with transaction.atomic():
            ids = list(Delivery.objects.filter(created_at__lt=cutoff).order_by("created_at")
                       .values_list("pk", flat=True)[:batch])
            if not ids:
                return purged
            DeliveryAttempt.objects.filter(delivery_id__in=ids).delete()
            purged += Delivery.objects.filter(pk__in=ids).delete()[0]
