from __future__ import annotations

from typing import Any

from django.db import transaction
from rest_framework import serializers

from accounts.api.base import AccountScopedSerializer, ScopedPrimaryKeyRelatedField
from agents.models import Operator

from ..models import CallerRoute, PhoneNumber, Prompt, Service, ServiceMembership


class PromptSerializer(AccountScopedSerializer):
    class Meta:
        model = Prompt
        fields = ["id", "name", "kind", "audio", "audio_format", "duration_seconds", "size_bytes", "created_at"]
        read_only_fields = ["audio_format", "duration_seconds", "size_bytes", "created_at"]

    def prepare_candidate(self, candidate: Prompt, attrs: dict[str, Any]) -> None:
        self._checked = candidate

    def create(self, validated_data: dict[str, Any]) -> Prompt:
        # clean() measured the upload; keep what it found.
        for field in ("audio_format", "duration_seconds", "size_bytes"):
            validated_data[field] = getattr(self._checked, field)
        return super().create(validated_data)

    def update(self, instance: Prompt, validated_data: dict[str, Any]) -> Prompt:
        if "audio" in validated_data:
            for field in ("audio_format", "duration_seconds", "size_bytes"):
                validated_data[field] = getattr(self._checked, field)
        return super().update(instance, validated_data)


DEFAULT_SKILL = ServiceMembership._meta.get_field("skill_level").default  # a membership given without one


class MembershipSerializer(serializers.ModelSerializer):
    operator = ScopedPrimaryKeyRelatedField(queryset=Operator.objects.all())
    operator_name = serializers.CharField(source="operator.name", read_only=True)

    class Meta:
        model = ServiceMembership
        fields = ["operator", "operator_name", "skill_level"]


class ServiceSerializer(AccountScopedSerializer):
    memberships = MembershipSerializer(many=True, required=False)
    extra_model_exclude = ("memberships",)

    class Meta:
        model = Service
        exclude = ["account", "operators"]
        read_only_fields = ["created_at"]

    def validate_memberships(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen = set()
        for item in value:
            if "operator" not in item:
                # A PATCH is partial all the way down (DRF), so the nested serializer does not require the
                # operator there; the list replaces the memberships, so each must name one.
                raise serializers.ValidationError("Each membership names its operator.")
            if item["operator"].pk in seen:
                raise serializers.ValidationError(f"Operator {item['operator'].pk} is listed twice.")
            seen.add(item["operator"].pk)
        return value

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> Service:
        memberships = validated_data.pop("memberships", [])
        service = super().create(validated_data)
        self._write_memberships(service, memberships)
        return service

    @transaction.atomic
    def update(self, instance: Service, validated_data: dict[str, Any]) -> Service:
        memberships = validated_data.pop("memberships", None)
        service = super().update(instance, validated_data)
        if memberships is not None:
            self._write_memberships(service, memberships)
        return service

    def _write_memberships(self, service: Service, memberships: list[dict[str, Any]]) -> None:
        """The list given is the whole list: members not in it leave the service."""
        keep = []
        for item in memberships:
            member, _ = ServiceMembership.objects.update_or_create(
                service=service, operator=item["operator"],
                defaults={"skill_level": item.get("skill_level", DEFAULT_SKILL)})
            keep.append(member.pk)
        service.memberships.exclude(pk__in=keep).delete()


class PhoneNumberSerializer(AccountScopedSerializer):
    class Meta:
        model = PhoneNumber
        exclude = ["account"]


class CallerRouteSerializer(AccountScopedSerializer):
    class Meta:
        model = CallerRoute
        exclude = ["account"]
