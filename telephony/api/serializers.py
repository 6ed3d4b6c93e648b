"""The engine contract in the OpenAPI schema: every event and command as its own object, in a `oneOf` with a
discriminator on `type`, so an engine author (or a generator) knows which fields go with which type.

The serializers are built from the port's dataclasses (telephony/port.py), the one definition of the wire
format, so the schema cannot drift from what `event_from_dict` accepts and `Command.as_dict` sends. They only
document: the webhook view validates events with `event_from_dict`.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from ..choices import BuiltinPrompt
from ..port import COMMAND_TYPES, EVENT_TYPES, FIELD_MAX_LENGTH, MAX_SECONDS, Command, Event

EVENT_HELP = {
    "event_id": "Unique per engine: a redelivery with the same id has no second effect.",
    "call_ref": "The engine's id of the caller's leg (the call).",
    "leg_ref": "The operator leg, as the back office named it in `ring` (leg_* events; hangup of one leg).",
    "dialed": "The number dialled (E.164).",
    "caller": "The caller's number or SIP URI.",
    "digits": "What the caller typed; an empty string means the caller typed nothing before the timeout.",
    "prompt": "The `prompt` of the `play` command (with `notify`) that reached its end.",
    "seconds": "The recording's length in seconds.",
    "recording_url": "Where the back office can fetch the recording.",
    "verdict": "`human`, `machine` or `unknown`.",
    "cause": "Why it ended: `normal`, `busy`, `no_answer`, `failed`, … (free text, at most 40 characters).",
}
COMMAND_HELP = {
    "call_ref": "The call the command is about.",
    "leg_ref": "The operator leg (`ring` names a new one; `bridge`, `cancel_leg` refer to it).",
    "seconds": "How long the prompt lasts (0: unknown).",
    "notify": "Send `prompt_finished` when the prompt ends (the call waits for it).",
    "endpoint": "Where to ring: an E.164 number or a SIP URI.",
    "timeout_seconds": "How long to ring or wait before giving up (`leg_no_answer`, an empty `digits`).",
    "caller_id": "The caller id to present.",
    "screen": "What to show the operator while it rings (console engines): the caller, the service, …",
    "destination": "The external number (E.164).",
    "max_seconds": "The longest recording.",
    "max_digits": "Stop collecting after this many digits.",
    "cause": "The hangup cause to report.",
    "amd": "Run answering-machine detection and send `amd_result`.",
}
PROMPT_FIELDS = {"prompt", "greeting", "whisper"}
PROMPT_HELP = ("What to play: an uploaded prompt's absolute http(s) URL (on the platform's PUBLIC_BASE_URL), "
               "or one of the built-in prompts (`builtin:…`, listed below) that the engine ships itself; "
               "empty: nothing (e.g. no whisper).")


@extend_schema_field({
    "anyOf": [{"type": "string", "enum": BuiltinPrompt.values,
               "description": "The built-in prompts: " + "; ".join(f"`{p.value}`: {p.label}" for p in BuiltinPrompt)},
              {"type": "string", "format": "uri", "pattern": "^https?://"},
              {"type": "string", "enum": [""]}],
    "description": PROMPT_HELP})
class PromptRefField(serializers.CharField):
    """A command's prompt: a built-in name, an absolute URL, or nothing."""


TYPE_MARK = "x-centralino-type"


def one_value_type_enums(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """A postprocessing hook (SPECTACULAR_SETTINGS): each event's and command's `type` becomes the enum of its
    one value, the discriminator's mapping key."""
    for component in result.get("components", {}).get("schemas", {}).values():
        kind = component.get("properties", {}).get("type", {})
        if TYPE_MARK in kind:
            kind["enum"] = [kind.pop(TYPE_MARK)]
    return result


class ContractSerializer(serializers.Serializer):
    """A read-only description of one event or command type."""


def _type_field(value: str) -> serializers.Field:
    # Marked, and made a one-value enum by `one_value_type_enums` after drf-spectacular's enum hook (which would
    # gather every `type` enum under one name and warn of the collision; wrapping it in allOf instead made
    # openapi-python-client generate an empty model).
    @extend_schema_field({"type": "string", TYPE_MARK: value})
    class TypeField(serializers.CharField):
        pass
    return TypeField(help_text=f"Always `{value}`.")


def _field(name: str, annotation: Any, *, required: bool, help_text: str, bounded: bool) -> serializers.Field:
    """A serializer field for a port field; `bounded`: an event's, limited as `event_from_dict` limits it (a
    command's values come from the records, e.g. a 255-character caller id, and carry no such limit)."""
    annotation = {"str": str, "float": float, "bool": bool, "int": int}.get(annotation, annotation)
    if annotation is float:
        return serializers.FloatField(required=required, min_value=0, max_value=MAX_SECONDS if bounded else None,
                                      help_text=help_text)
    if annotation is bool:
        return serializers.BooleanField(required=required, help_text=help_text)
    if annotation is int:
        return serializers.IntegerField(required=required, min_value=0, help_text=help_text)
    if annotation is str:
        non_empty = required and bounded  # an event's event_id and call_ref; a command's text may be empty
        return serializers.CharField(required=required, allow_blank=not non_empty, trim_whitespace=False,
                                     max_length=FIELD_MAX_LENGTH.get(name, 100) if bounded else None,
                                     min_length=1 if non_empty else None,
                                     help_text=help_text)
    return serializers.DictField(required=required, help_text=help_text)


def _event_serializer(cls: type[Event]) -> type[serializers.Serializer]:
    """An event: `type`, `event_id` and `call_ref` required; each other field optional (its default shown)."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, serializers.Field] = {"type": _type_field(cls.type)}
    for f in dataclasses.fields(cls):
        required = f.name in ("event_id", "call_ref")
        default = "" if required else f" Default: `{f.default!r}`." if f.default is not dataclasses.MISSING else ""
        fields[f.name] = _field(f.name, hints[f.name], required=required,
                                help_text=EVENT_HELP.get(f.name, "") + default, bounded=True)
    name = "".join(part.title() for part in cls.type.split("_")) + "Event"
    return type(name, (ContractSerializer,), {**fields, "__doc__": (cls.__doc__ or cls.type).strip()})


def _command_serializer(cls: type[Command]) -> type[serializers.Serializer]:
    """A command: every field always present."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, serializers.Field] = {"type": _type_field(cls.type)}
    for f in dataclasses.fields(cls):
        if f.name in PROMPT_FIELDS:
            fields[f.name] = PromptRefField()
        else:
            fields[f.name] = _field(f.name, hints[f.name], required=True, help_text=COMMAND_HELP.get(f.name, ""),
                                    bounded=False)
    name = "".join(part.title() for part in cls.type.split("_")) + "Command"
    return type(name, (ContractSerializer,), {**fields, "__doc__": (cls.__doc__ or cls.type).strip()})


EVENT_SERIALIZERS = {kind: _event_serializer(cls) for kind, cls in sorted(EVENT_TYPES.items())}
COMMAND_SERIALIZERS = {kind: _command_serializer(cls) for kind, cls in sorted(COMMAND_TYPES.items())}

# What the engine POSTs to /telephony/events/: one of the events, told apart by `type`.
EventSerializer = PolymorphicProxySerializer(component_name="EngineEvent", serializers=EVENT_SERIALIZERS,
                                             resource_type_field_name="type", many=False)


class CommandsSerializer(serializers.Serializer):
    """The commands to carry out, in order (the answer to an event, or the pending ones when polled)."""

    commands = PolymorphicProxySerializer(component_name="EngineCommand", serializers=COMMAND_SERIALIZERS,
                                          resource_type_field_name="type", many=True)
