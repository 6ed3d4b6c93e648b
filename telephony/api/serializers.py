"""OpenAPI description of the webhook interface (events in, commands out)."""

from __future__ import annotations

from rest_framework import serializers

from ..port import COMMAND_TYPES, EVENT_TYPES


class EventSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=sorted(EVENT_TYPES), help_text="The kind of event.")
    event_id = serializers.CharField(help_text="Unique per engine: a redelivery with the same id has no effect.")
    call_ref = serializers.CharField(help_text="The engine's id of the caller's leg.")
    leg_ref = serializers.CharField(required=False, help_text="The operator leg (leg_* and hangup events).")
    dialed = serializers.CharField(required=False, help_text="incoming_call: the number dialled (E.164).")
    caller = serializers.CharField(required=False, help_text="incoming_call: the caller's number.")
    digits = serializers.CharField(required=False, help_text="digits: what the caller typed.")
    prompt = serializers.CharField(required=False, help_text="prompt_finished: the prompt that ended.")
    seconds = serializers.FloatField(required=False, help_text="voicemail_recorded: its length.")
    recording_url = serializers.CharField(required=False, help_text="voicemail_recorded: where it is.")
    verdict = serializers.CharField(required=False, help_text="amd_result: human, machine or unknown.")
    cause = serializers.CharField(required=False, help_text="hangup: the cause.")


class CommandSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=sorted(COMMAND_TYPES))
    call_ref = serializers.CharField()
    leg_ref = serializers.CharField(required=False)
    prompt = serializers.CharField(required=False)
    seconds = serializers.FloatField(required=False)
    notify = serializers.BooleanField(required=False)
    endpoint = serializers.CharField(required=False)
    timeout_seconds = serializers.IntegerField(required=False)
    caller_id = serializers.CharField(required=False)
    whisper = serializers.CharField(required=False)
    screen = serializers.DictField(required=False)
    destination = serializers.CharField(required=False)
    greeting = serializers.CharField(required=False)
    max_seconds = serializers.IntegerField(required=False)
    max_digits = serializers.IntegerField(required=False)
    cause = serializers.CharField(required=False)
    amd = serializers.BooleanField(required=False)


class CommandsSerializer(serializers.Serializer):
    commands = CommandSerializer(many=True)
