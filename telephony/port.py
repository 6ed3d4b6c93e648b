"""The telephony port: the one boundary between the back office and whatever carries audio.

Events come in from an engine (a PBX, a CPaaS, the built-in simulator); the ACD answers each with a list
of commands. Both are plain frozen dataclasses with a `type` tag, so the webhook backend serialises them
as JSON and the simulator passes them as objects. Nothing outside `telephony/` knows which engine runs.

Every event carries an `event_id` unique per engine: the same event delivered twice has no second effect.
`call_ref` is the engine's id of the caller's leg; `leg_ref` the id the back office gave an operator leg.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

# --- Events (engine → back office) ------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    event_id: str
    call_ref: str
    type: ClassVar[str] = "event"


@dataclass(frozen=True)
class IncomingCall(Event):
    """A call reached one of the platform's numbers."""

    dialed: str = ""
    caller: str = ""
    type: ClassVar[str] = "incoming_call"


@dataclass(frozen=True)
class PromptFinished(Event):
    """A `Play` command with `notify=True` reached its end."""

    prompt: str = ""
    type: ClassVar[str] = "prompt_finished"


@dataclass(frozen=True)
class LegEvent(Event):
    leg_ref: str = ""


@dataclass(frozen=True)
class LegRinging(LegEvent):
    type: ClassVar[str] = "leg_ringing"


@dataclass(frozen=True)
class LegAnswered(LegEvent):
    type: ClassVar[str] = "leg_answered"


@dataclass(frozen=True)
class LegNoAnswer(LegEvent):
    type: ClassVar[str] = "leg_no_answer"


@dataclass(frozen=True)
class LegBusy(LegEvent):
    type: ClassVar[str] = "leg_busy"


@dataclass(frozen=True)
class LegRejected(LegEvent):
    type: ClassVar[str] = "leg_rejected"


@dataclass(frozen=True)
class LegFailed(LegEvent):
    type: ClassVar[str] = "leg_failed"


@dataclass(frozen=True)
class Digits(Event):
    """DTMF the caller typed after a `CollectDigits` command ('' when the caller typed nothing)."""

    digits: str = ""
    type: ClassVar[str] = "digits"


@dataclass(frozen=True)
class VoicemailRecorded(Event):
    seconds: float = 0.0
    recording_url: str = ""
    type: ClassVar[str] = "voicemail_recorded"


@dataclass(frozen=True)
class AmdResult(Event):
    """Answering-machine detection verdict on an originated call (for the dialer)."""

    verdict: str = ""  # human | machine | unknown
    type: ClassVar[str] = "amd_result"


@dataclass(frozen=True)
class Hangup(Event):
    """The call (or, with `leg_ref`, only an operator leg) ended."""

    leg_ref: str = ""
    cause: str = "normal"
    type: ClassVar[str] = "hangup"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls for cls in (IncomingCall, PromptFinished, LegRinging, LegAnswered, LegNoAnswer, LegBusy,
                              LegRejected, LegFailed, Digits, VoicemailRecorded, AmdResult, Hangup)
}

# --- Commands (back office → engine) --------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    call_ref: str
    type: ClassVar[str] = "command"

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, **dataclasses.asdict(self)}


@dataclass(frozen=True)
class Answer(Command):
    type: ClassVar[str] = "answer"


@dataclass(frozen=True)
class Play(Command):
    prompt: str = ""  # a name the engine can play: a prompt's URL, or a built-in announcement
    seconds: float = 0.0
    notify: bool = False  # send PromptFinished at the end
    type: ClassVar[str] = "play"


@dataclass(frozen=True)
class StartHold(Command):
    prompt: str = ""
    type: ClassVar[str] = "start_hold"


@dataclass(frozen=True)
class StopHold(Command):
    type: ClassVar[str] = "stop_hold"


@dataclass(frozen=True)
class CollectDigits(Command):
    prompt: str = ""
    max_digits: int = 6
    timeout_seconds: int = 8
    type: ClassVar[str] = "collect_digits"


@dataclass(frozen=True)
class Ring(Command):
    """Ring an operator's endpoint; the engine sends LegNoAnswer when `timeout_seconds` pass unanswered."""

    leg_ref: str = ""
    endpoint: str = ""
    timeout_seconds: int = 20
    caller_id: str = ""
    whisper: str = ""  # played to the operator before the caller is bridged (operators reached by phone)
    screen: dict[str, Any] = field(default_factory=dict)  # shown on the operator's console while ringing
    type: ClassVar[str] = "ring"


@dataclass(frozen=True)
class CancelLeg(Command):
    leg_ref: str = ""
    type: ClassVar[str] = "cancel_leg"


@dataclass(frozen=True)
class Bridge(Command):
    leg_ref: str = ""
    type: ClassVar[str] = "bridge"


@dataclass(frozen=True)
class Transfer(Command):
    """Blind-transfer the caller to an external number (overflow redirect, transfer out)."""

    destination: str = ""
    type: ClassVar[str] = "transfer"


@dataclass(frozen=True)
class RecordVoicemail(Command):
    greeting: str = ""
    max_seconds: int = 120
    type: ClassVar[str] = "record_voicemail"


@dataclass(frozen=True)
class HangupCall(Command):
    cause: str = "normal"
    type: ClassVar[str] = "hangup"


@dataclass(frozen=True)
class Originate(Command):
    """Place an outbound call (dialer, click-to-call); `amd` asks for answering-machine detection."""

    destination: str = ""
    caller_id: str = ""
    timeout_seconds: int = 30
    amd: bool = False
    type: ClassVar[str] = "originate"


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.type: cls for cls in (Answer, Play, StartHold, StopHold, CollectDigits, Ring, CancelLeg, Bridge,
                              Transfer, RecordVoicemail, HangupCall, Originate)
}


class PortError(ValueError):
    """An event document that does not describe a valid event."""


def event_from_dict(data: dict[str, Any]) -> Event:
    """Build an event from its JSON form, with a readable error for anything malformed."""
    if not isinstance(data, dict):
        raise PortError("an event is a JSON object")
    kind = data.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise PortError(f"unknown event type {kind!r}; expected one of {sorted(EVENT_TYPES)}")
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(names) - {"type"}
    if unknown:
        raise PortError(f"{kind}: unknown fields {sorted(unknown)}")
    for required in ("event_id", "call_ref"):
        if not isinstance(data.get(required), str) or not data[required]:
            raise PortError(f"{kind}: {required} is required (a non-empty string)")
    kwargs = {k: v for k, v in data.items() if k != "type"}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise PortError(f"{kind}: {exc}") from exc


def event_as_dict(event: Event) -> dict[str, Any]:
    return {"type": event.type, **dataclasses.asdict(event)}
