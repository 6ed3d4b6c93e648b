"""The billing endpoints' answers, documented field by field (billing/usage.py and the plan view build them)."""

from __future__ import annotations

from rest_framework import serializers


class UsageSampleSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="The sample's start (its length is `interval_seconds`).")
    max_concurrent = serializers.IntegerField(help_text="The most calls holding a channel at once.")
    avg_concurrent = serializers.FloatField(help_text="Channel-seconds held over the sample's seconds.")
    refusals = serializers.IntegerField(help_text="Calls refused with REACH_PLAN_LIMIT in the sample.")


class MinutesSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="The first day of the month counted (the account's time zone).")
    used = serializers.FloatField(help_text="Billed minutes this month, in tenths (`billed_seconds` / 60).")
    billed_seconds = serializers.IntegerField(help_text="Billed seconds this month: each answered call's talk "
                                              "time rounded up by the plan's first period and step.")
    included = serializers.IntegerField(help_text="Minutes the plan includes each month.")


class UsageSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    interval_seconds = serializers.IntegerField()
    limit = serializers.IntegerField(help_text="The account's concurrent-call limit now.")
    samples = UsageSampleSerializer(many=True)
    refusals_per_day = serializers.DictField(child=serializers.IntegerField(), help_text="Refusals per local "
                                             "day (`YYYY-MM-DD` → count), days without any left out.")
    refusals = serializers.IntegerField()
    minutes = MinutesSerializer()


class ServiceLevelTargetSerializer(serializers.Serializer):
    share = serializers.FloatField()
    within_seconds = serializers.FloatField()


class CapacitySerializer(serializers.Serializer):
    busiest_hour = serializers.DateTimeField(allow_null=True, help_text="Null without traffic.")
    traffic_erlangs = serializers.FloatField()
    calls = serializers.IntegerField()
    enough_traffic = serializers.BooleanField(help_text="False: too few calls for the advice to mean much.")
    channels_needed = serializers.IntegerField()
    blocking_target = serializers.FloatField()
    operators_needed = serializers.IntegerField()
    service_level_target = ServiceLevelTargetSerializer()
    average_handle_seconds = serializers.FloatField()
    channel_limit = serializers.IntegerField()
    advice = serializers.CharField(help_text="The advisor's conclusion in words (the request's language).")
    alerts = serializers.ListField(child=serializers.CharField())


class AccountPlanSerializer(serializers.Serializer):
    """The plan change's body."""

    plan = serializers.CharField(required=False, help_text="Code of a plan on sale (e.g. unlimited-wl).")
    extra_channels = serializers.IntegerField(required=False, min_value=0, max_value=100_000)


class PlanStateSerializer(serializers.Serializer):
    """The account's plan, limit and channels in use."""

    plan = serializers.CharField(help_text="The plan's code.")
    plan_name = serializers.CharField()
    included_channels = serializers.IntegerField()
    extra_channels = serializers.IntegerField()
    extra_channels_allowed = serializers.BooleanField()
    extra_channel_price = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField()
    channel_limit = serializers.IntegerField()
    channels_in_use = serializers.IntegerField()
    included_minutes = serializers.IntegerField()
