from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.api.base import AccountScopedSerializer

from ..choices import OperatorState, PauseSource
from ..models import Operator, PauseReason, validate_pin


class OperatorSerializer(AccountScopedSerializer):
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"},
                                     help_text="Write-only. Required when creating an operator.")
    pin = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                help_text="Write-only phone PIN, 4 to 8 digits.")
    # A method, not `source="pause_reason.name"` with a default: DRF skips a dotted field's default on a
    # partial update, so a PATCH answered without the key the schema requires.
    pause_reason_name = serializers.SerializerMethodField()

    class Meta:
        model = Operator
        fields = ["id", "name", "login", "password", "code", "pin", "endpoint_kind", "endpoint", "is_active",
                  "state", "state_changed_at", "pause_source", "pause_reason", "pause_reason_name",
                  "no_answer_streak", "created_at"]
        read_only_fields = ["state", "state_changed_at", "pause_source", "pause_reason", "no_answer_streak",
                            "created_at"]

    def get_pause_reason_name(self, operator: Operator) -> str | None:
        return operator.pause_reason.name if operator.pause_reason_id else None

    def validate_password(self, value: str) -> str:
        try:
            validate_password(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value

    def validate_pin(self, value: str) -> str:
        if value:
            try:
                validate_pin(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from exc
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("password"):
            raise serializers.ValidationError({"password": ["A new operator needs a password."]})
        return super().validate(attrs)

    def _apply_secrets(self, operator: Operator, validated_data: dict[str, Any]) -> None:
        if validated_data.get("password"):
            operator.set_password(validated_data["password"])
        if "pin" in validated_data:
            operator.set_pin(validated_data["pin"])

    def create(self, validated_data: dict[str, Any]) -> Operator:
        secrets = {k: validated_data.pop(k) for k in ("password", "pin") if k in validated_data}
        operator = Operator(**validated_data)
        self._apply_secrets(operator, secrets)
        operator.save()
        return operator

    def update(self, instance: Operator, validated_data: dict[str, Any]) -> Operator:
        secrets = {k: validated_data.pop(k) for k in ("password", "pin") if k in validated_data}
        instance.login = validated_data.get("login", instance.login)  # the SIP digest secret is per login
        self._apply_secrets(instance, secrets)
        return super().update(instance, validated_data)


class PauseReasonSerializer(AccountScopedSerializer):
    class Meta:
        model = PauseReason
        fields = ["id", "name", "is_active"]


class PauseRequestSerializer(serializers.Serializer):
    reason = serializers.IntegerField(required=False, allow_null=True,
                                      help_text="Id of one of the account's pause reasons.")


class OperatorStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    login = serializers.CharField()
    state = serializers.ChoiceField(choices=OperatorState.choices)
    since = serializers.DateTimeField(allow_null=True)
    pause_source = serializers.ChoiceField(choices=PauseSource.choices, allow_null=True,
                                           help_text="Who paused the operator; null when not paused.")
    pause_reason = serializers.CharField(allow_null=True, help_text="The pause reason's name, or null.")
    no_answer_streak = serializers.IntegerField()
    version = serializers.IntegerField(help_text="Rises by one with each state change of this operator: of two "
                                                 "answers, the higher version is the newer state.")
