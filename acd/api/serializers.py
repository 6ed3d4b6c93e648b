from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.increments import billable_seconds
from agents.choices import OperatorState
from core.clock import now

from ..models import Call, Offer


class LegSerializer(serializers.ModelSerializer):
    """One operator leg of the call: each ring of an operator (a transfer's target too), in the order rung."""

    class Meta:
        model = Offer
        fields = ["leg_ref", "operator", "state", "is_transfer", "created_at", "ended_at"]
        read_only_fields = fields


class MenuStepSerializer(serializers.Serializer):
    """One choice the caller made in a voice menu (top menu first)."""

    menu = serializers.IntegerField()
    digit = serializers.CharField()
    label = serializers.CharField()
    whisper = serializers.CharField(allow_blank=True, help_text="The option's whisper prompt, or empty.")


class CallSerializer(serializers.ModelSerializer):
    menu_path = MenuStepSerializer(many=True, read_only=True)
    legs = serializers.SerializerMethodField(help_text="The operator legs, oldest first (the caller's own leg is "
                                             "`engine_ref`).")
    billed_seconds = serializers.SerializerMethodField(help_text="Talk time as the plan bills it: the first "
                                                       "period, then whole steps (0 for an unanswered call).")
    service_name = serializers.CharField(source="service.name", read_only=True, default=None, allow_null=True)
    operator_name = serializers.CharField(source="operator.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Call
        fields = ["id", "engine_ref", "direction", "caller", "dialed", "service", "service_name", "operator",
                  "operator_name", "state", "outcome", "end_cause", "criterion", "arrived_at", "queued_at",
                  "answered_at", "ended_at", "wait_seconds", "talk_seconds", "transferred_to",
                  "voicemail_seconds", "voicemail_url", "billed_seconds", "legs", "menu_path"]
        read_only_fields = fields

    @extend_schema_field(LegSerializer(many=True))
    def get_legs(self, call: Call) -> list[dict]:
        # Sorted here: the prefetch (`offers`) keeps the model's newest-first order.
        return LegSerializer(sorted(call.offers.all(), key=lambda o: (o.created_at, o.pk)), many=True).data

    def get_billed_seconds(self, call: Call) -> int:
        plan = call.account.plan
        return billable_seconds(call.talk_seconds or 0, plan.billing_first_seconds, plan.billing_step_seconds)


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


# --- The statistics' answer (documents what acd/stats.py returns; never used to read input) ---------------

class OverflowCountsSerializer(serializers.Serializer):
    busy = serializers.IntegerField()
    voicemail = serializers.IntegerField()
    redirected = serializers.IntegerField()


class ServiceStatsSerializer(serializers.Serializer):
    service = serializers.CharField(help_text="The service's name.")
    service_id = serializers.IntegerField()
    offered = serializers.IntegerField()
    answered = serializers.IntegerField()
    abandoned = serializers.IntegerField()
    overflow = OverflowCountsSerializer()
    service_level = serializers.FloatField(allow_null=True, help_text="Share answered within the target "
                                           "(0..1); null without answered calls.")
    service_level_with_abandons = serializers.FloatField(allow_null=True)
    service_level_seconds = serializers.IntegerField(help_text="The service level's target, in seconds.")
    asa_seconds = serializers.FloatField(allow_null=True, help_text="Average speed of answer; null without "
                                         "answered calls.")
    aht_seconds = serializers.FloatField(allow_null=True, help_text="Average handle time; null without calls.")
    talk_minutes = serializers.FloatField()
    waiting_now = serializers.IntegerField()
    longest_wait_seconds = serializers.FloatField()


class OperatorStatsSerializer(serializers.Serializer):
    operator = serializers.CharField(help_text="The operator's name.")
    login = serializers.CharField()
    operator_id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=OperatorState.choices)
    offered = serializers.IntegerField()
    answered = serializers.IntegerField()
    no_answer = serializers.IntegerField()
    calls = serializers.IntegerField()
    talk_minutes = serializers.FloatField()
    occupancy = serializers.FloatField(allow_null=True, help_text="Handling time over handling plus idle time "
                                       "(0..1); null when the operator was neither.")
    paused_minutes = serializers.FloatField()


class StatsSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    services = ServiceStatsSerializer(many=True)
    operators = OperatorStatsSerializer(many=True)
