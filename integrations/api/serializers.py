from __future__ import annotations

from rest_framework import serializers

from accounts.api.base import AccountScopedSerializer

from ..choices import EventType
from ..models import Delivery, DeliveryAttempt, Subscription


class SubscriptionSerializer(AccountScopedSerializer):
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices),
                                        min_length=1, max_length=len(EventType.values))

    class Meta:
        model = Subscription
        fields = ["id", "url", "description", "event_types", "is_active", "paused_at", "pause_reason",
                  "consecutive_failures", "created_at"]
        read_only_fields = ["paused_at", "pause_reason", "consecutive_failures", "created_at"]


class SubscriptionWithSecretSerializer(SubscriptionSerializer):
    """On creation and rotation only: the `whsec_` secret receivers verify signatures with."""

    secret = serializers.CharField(read_only=True)

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["at", "status", "error", "duration_ms"]


class DeliverySerializer(serializers.ModelSerializer):
    webhook_id = serializers.CharField(read_only=True)
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "subscription", "webhook_id", "event_type", "payload", "state", "attempts",
                  "next_attempt_at", "last_attempt_at", "last_status", "last_error", "delivered_at", "created_at",
                  "attempt_log"]
        read_only_fields = fields
