"""Integrators' webhook subscriptions and the outbox of their deliveries (with every attempt logged)."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import netguard
from core.audit import AuditedHistory

from .choices import DeliveryState, EventType

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of 24 random bytes (the bytes are the HMAC key)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def check_url(url: str) -> None:
    """The platform's SSRF guard (core/netguard.py) with the outgoing events' own allow-list."""
    netguard.resolve(url, allow_private=settings.OUTGOING_EVENTS_ALLOW_PRIVATE,
                     allowed_hosts=settings.OUTGOING_EVENTS_ALLOWED_HOSTS)


class Subscription(models.Model):
    """An integrator's endpoint: which of the account's events are POSTed there, signed with its secret."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="subscriptions")
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = ArrayField(models.CharField(max_length=40, choices=EventType.choices), verbose_name=_("events"),
                             size=len(EventType.values))
    secret = models.CharField(_("signing secret"), max_length=80, default=new_secret, editable=False)
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Inactive: no event is recorded for it."))
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True, editable=False,
                                     help_text=_("Paused after failing: events wait until it is resumed."))
    pause_reason = models.CharField(_("why paused"), max_length=300, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0, editable=False)
    notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = AuditedHistory(excluded_fields=["secret", "consecutive_failures", "notified_at"])

    class Meta:
        ordering = ["account", "url"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        indexes = [models.Index(fields=["account"], name="subscription_live_idx", condition=Q(is_active=True))]

    def __str__(self) -> str:
        return self.url

    def clean(self) -> None:
        if self.url:
            try:
                check_url(self.url)
            except netguard.UnsafeURL as exc:
                raise ValidationError({"url": _("This URL is refused: %(why)s.") % {"why": exc}}) from exc
        if self.event_types is not None:
            if not self.event_types:
                raise ValidationError({"event_types": _("Choose at least one event.")})
            if len(set(self.event_types)) != len(self.event_types):
                raise ValidationError({"event_types": _("An event is listed twice.")})
        limit = settings.OUTGOING_EVENTS_MAX_SUBSCRIPTIONS
        if self.account_id and not self.pk and \
                Subscription.objects.filter(account_id=self.account_id).count() >= limit:
            raise ValidationError(_("An account has at most %(n)d webhook subscriptions.") % {"n": limit})


class Delivery(models.Model):
    """One event for one subscription: the outbox row, written in the transaction of the change it tells of.
    `next_attempt_at` is when the sweep may (re)try it; a later event with the same `order_key` waits until
    this one is no longer pending."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.UUIDField(_("message id"), default=uuid.uuid4, editable=False)
    event_type = models.CharField(_("event"), max_length=40, choices=EventType.choices)
    order_key = models.CharField(_("order key"), max_length=60, blank=True)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("recorded"))
    state = models.CharField(_("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_due_idx", condition=Q(state="pending")),
            models.Index(fields=["subscription", "order_key", "id"], name="delivery_order_idx",
                         condition=Q(state="pending")),
            models.Index(fields=["subscription", "created_at"], name="delivery_subscription_idx"),
            models.Index(fields=["created_at"], name="delivery_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.state})"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.message_id.hex}"


class DeliveryAttempt(models.Model):
    """The delivery log: one row per POST, what the endpoint answered or why it failed."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("at"))
    status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    response = models.CharField(_("answer (start)"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at}: {self.status or self.error}"
