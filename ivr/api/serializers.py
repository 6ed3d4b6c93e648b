from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework import serializers

from accounts.api.base import AccountScopedSerializer, ScopedPrimaryKeyRelatedField
from routing.models import PhoneNumber, Prompt, Service

from ..models import Menu, MenuNumber, MenuOption


class MenuOptionSerializer(serializers.ModelSerializer):
    service = ScopedPrimaryKeyRelatedField(queryset=Service.objects.all(), required=False, allow_null=True)
    submenu = ScopedPrimaryKeyRelatedField(queryset=Menu.objects.all(), required=False, allow_null=True)
    whisper_prompt = ScopedPrimaryKeyRelatedField(queryset=Prompt.objects.all(), required=False, allow_null=True)

    class Meta:
        model = MenuOption
        fields = ["id", "digit", "label", "action", "service", "submenu", "whisper_prompt"]
        read_only_fields = ["id"]


class MenuSerializer(AccountScopedSerializer):
    """A menu with its whole list of options and the numbers answering with it (each list replaces the
    saved one). Options are checked as saved ones are: a loop or a nesting past the limit is a 400 on
    `options` naming the digit."""

    options = MenuOptionSerializer(many=True, required=False)
    numbers = ScopedPrimaryKeyRelatedField(queryset=PhoneNumber.objects.all(), many=True, required=False)
    extra_model_exclude = ("options", "numbers")

    class Meta:
        model = Menu
        fields = ["id", "name", "prompt", "timeout_seconds", "max_retries", "fallback_action", "fallback_service",
                  "options", "numbers", "created_at"]
        read_only_fields = ["created_at"]

    def to_representation(self, instance: Menu) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["numbers"] = list(instance.numbers.values_list("number_id", flat=True))
        return data

    def validate_options(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        digits = [item["digit"] for item in value]
        if len(digits) != len(set(digits)):
            raise serializers.ValidationError("Each digit may have one option only.")
        return value

    @transaction.atomic
    def create(self, validated_data: dict[str, Any]) -> Menu:
        options, numbers = validated_data.pop("options", []), validated_data.pop("numbers", [])
        menu = super().create(validated_data)
        self._write(menu, options, numbers)
        return menu

    @transaction.atomic
    def update(self, instance: Menu, validated_data: dict[str, Any]) -> Menu:
        options, numbers = validated_data.pop("options", None), validated_data.pop("numbers", None)
        menu = super().update(instance, validated_data)
        self._write(menu, options, numbers)
        return menu

    def _write(self, menu: Menu, options: list[dict[str, Any]] | None, numbers: list[PhoneNumber] | None) -> None:
        if options is not None:
            menu.options.all().delete()
            for item in options:
                option = MenuOption(menu=menu, **item)
                self._checked(option, "options", item["digit"])
                option.save()
        if numbers is not None:
            menu.numbers.all().delete()
            for number in numbers:
                link = MenuNumber(menu=menu, number=number)
                self._checked(link, "numbers", number.number)
                link.save()

    @staticmethod
    def _checked(obj: MenuOption | MenuNumber, field: str, which: str) -> None:
        try:
            obj.full_clean()
        except DjangoValidationError as exc:
            messages = [f"{which}: {m}" for ms in exc.message_dict.values() for m in ms]
            raise serializers.ValidationError({field: messages}) from exc


class MenuStatsSerializer(serializers.Serializer):
    class OptionCount(serializers.Serializer):
        option = serializers.IntegerField()
        digit = serializers.CharField()
        label = serializers.CharField()
        action = serializers.CharField()
        count = serializers.IntegerField()

    menu = serializers.IntegerField()
    name = serializers.CharField()
    options = OptionCount(many=True)
    invalid = serializers.IntegerField()
    timeout = serializers.IntegerField()
    fallback = serializers.IntegerField()
    start = serializers.DateTimeField(source="from")
    end = serializers.DateTimeField(source="to")
