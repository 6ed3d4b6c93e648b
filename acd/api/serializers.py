from __future__ import annotations

import datetime as dt

from rest_framework import serializers

from core.clock import now

from ..models import Call


class MenuStepSerializer(serializers.Serializer):
    """One choice the caller made in a voice menu (top menu first)."""

    menu = serializers.IntegerField()
    digit = serializers.CharField()
    label = serializers.CharField()
    whisper = serializers.CharField(allow_blank=True, help_text="The option's whisper prompt, or empty.")


class CallSerializer(serializers.ModelSerializer):
    menu_path = MenuStepSerializer(many=True, read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True, default=None, allow_null=True)
    operator_name = serializers.CharField(source="operator.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Call
        fields = ["id", "engine_ref", "direction", "caller", "dialed", "service", "service_name", "operator",
                  "operator_name", "state", "outcome", "end_cause", "criterion", "arrived_at", "queued_at",
                  "answered_at", "ended_at", "wait_seconds", "talk_seconds", "transferred_to",
                  "voicemail_seconds", "voicemail_url", "menu_path"]
        read_only_fields = fields


class TransferSerializer(serializers.Serializer):
    operator = serializers.IntegerField(required=False, help_text="Transfer to this operator.")
    service = serializers.IntegerField(required=False, help_text="Transfer to this service's queue.")
    number = serializers.CharField(required=False, help_text="Transfer to this external number (E.164).")

    def validate(self, attrs):
        if len([k for k in ("operator", "service", "number") if attrs.get(k)]) != 1:
            raise serializers.ValidationError("Give exactly one of operator, service or number.")
        return attrs


STATS_MAX_WINDOW_DAYS = 93  # statistics read every call and operator event of the window


class StatsQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False, help_text="Default: today's midnight (account time).")
    end = serializers.DateTimeField(required=False, help_text="Default: now.")

    def validate(self, attrs):
        if attrs.get("start") and attrs.get("end") and attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": "end must be after start."})
        end = attrs.get("end") or now()
        start = attrs.get("start") or now() - dt.timedelta(days=1)  # the default, today's midnight, is later
        if end - start > dt.timedelta(days=STATS_MAX_WINDOW_DAYS):
            raise serializers.ValidationError(
                {"start": f"The window is at most {STATS_MAX_WINDOW_DAYS} days; ask for a longer period in parts."})
        return attrs


class OriginateSerializer(serializers.Serializer):
    destination = serializers.CharField(help_text="E.164 number (or an extension for internal calls).")
    direction = serializers.ChoiceField(choices=["outbound", "internal", "system"], default="outbound")
    caller_id = serializers.CharField(required=False, default="", allow_blank=True)
    amd = serializers.BooleanField(required=False, default=False, help_text="Ask for answering-machine detection.")
