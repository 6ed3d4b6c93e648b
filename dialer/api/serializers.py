from __future__ import annotations

from rest_framework import serializers

from accounts.api.base import AccountScopedSerializer

from ..choices import DispositionKind
from ..imports import MAX_ROWS, progress
from ..models import Attempt, Campaign, Disposition, LeadList


class CampaignSerializer(AccountScopedSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name", "service", "caller_id", "mode", "abandon_target", "profile", "calling_hours",
                  "max_attempts", "retry_busy_minutes", "retry_no_answer_minutes", "retry_machine_minutes",
                  "retry_abandoned_minutes", "ring_seconds", "amd_enabled", "machine_action", "machine_prompt",
                  "safe_harbor_prompt", "max_dial_ratio", "inbound_reserve", "state", "state_changed_at",
                  "state_changed_by", "pacing"]
        read_only_fields = ["state", "state_changed_at", "state_changed_by", "pacing"]


class LeadListSerializer(AccountScopedSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = LeadList
        fields = ["id", "campaign", "name", "custom_fields", "is_active", "progress"]

    def get_progress(self, obj: LeadList) -> dict:
        return progress(obj)


class LeadRowSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=40)
    timezone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    fields = serializers.DictField(child=serializers.CharField(max_length=500, allow_blank=True), required=False)


class LeadImportSerializer(serializers.Serializer):
    leads = LeadRowSerializer(many=True, allow_empty=False, max_length=MAX_ROWS)


class ImportReportSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    imported = serializers.IntegerField()
    refused_count = serializers.IntegerField()
    refused = serializers.ListField(child=serializers.DictField())


class AttemptSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(source="lead.phone", read_only=True)
    lead_fields = serializers.JSONField(source="lead.fields", read_only=True)
    disposition = serializers.CharField(source="disposition.kind", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Attempt
        fields = ["id", "campaign", "lead", "phone", "lead_fields", "number", "outcome", "amd_verdict", "operator",
                  "call", "created_at", "dialed_at", "answered_at", "connected_at", "ended_at", "disposition"]
        read_only_fields = fields


class DispositionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Disposition
        fields = ["id", "attempt", "kind", "callback_at", "note", "operator", "at"]
        read_only_fields = fields


class DispositionRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DispositionKind.choices)
    callback_at = serializers.DateTimeField(required=False, allow_null=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
