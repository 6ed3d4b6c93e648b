"""Kamailio's questions and reports as port events, and the port's commands as Kamailio's next step.

A proxy carries no media: it rings an operator's URI (`Ring`), refuses a call with a SIP code (`HangupCall`,
`Transfer` as a 302), keeps a queued caller's INVITE waiting (`StartHold` with no ring: 182 Queued, asked
again until a ring or an end comes) and passes everything else through untouched (the caller and the
operator talk end to end, so `Answer`, `Bridge` and the hold itself have nothing to do). A `Play` the ACD
waits for (a welcome prompt) is reported finished at once: this backend plays no prompt (see the README's
"SIP calls" section).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from telephony import port

MAX_REF = port.FIELD_MAX_LENGTH["call_ref"]
MAX_CALLER = port.FIELD_MAX_LENGTH["caller"]
MAX_DIALED = port.FIELD_MAX_LENGTH["dialed"]
MAX_LEG = port.FIELD_MAX_LENGTH["leg_ref"]
ANONYMOUS = "anonymous"
_NUMBER = re.compile(r"^\+?[0-9]{2,20}$")
_ANONYMOUS_USERS = frozenset({"", "anonymous", "restricted", "unavailable", "unknown"})

# The cause the ACD gives a refused call → the SIP answer (code, reason phrase).
REFUSALS: dict[str, tuple[int, str]] = {
    "busy": (486, "Busy Here"),
    "no_operator": (486, "Busy Here"),
    "unallocated": (404, "Not Found"),
    "closed": (480, "Temporarily Unavailable"),
}
PLAN_LIMIT = "REACH_PLAN_LIMIT"
PLAN_LIMIT_CODES = {486: "Busy Here", 403: "Forbidden", 503: "Service Unavailable"}
NOT_FOUND = (404, "Not Found")
NO_MEDIA = (480, "Temporarily Unavailable")  # a queue, voicemail or hold needs a media server (README)


def call_ref(call_id: str) -> str:
    """The Call-ID as the back office's call reference: a Call-ID longer than the column is hashed (stable,
    so every report about the call names the same reference)."""
    if len(call_id) <= MAX_REF:
        return call_id
    return "sha256:" + hashlib.sha256(call_id.encode()).hexdigest()


def caller_of(from_user: str, from_uri: str) -> str:
    """A number when the From user is one; 'anonymous' for withheld callers; otherwise the From URI (a SIP
    caller id such as sip:alice@example.com), cut to the column."""
    user = (from_user or "").strip()
    uri = (from_uri or "").strip()
    if user.lower() in _ANONYMOUS_USERS or "anonymous.invalid" in uri.lower():
        return ANONYMOUS
    if _NUMBER.match(user):
        return user
    return (uri or user)[:MAX_CALLER]


def _text(doc: dict[str, Any], name: str, limit: int = 1000) -> str:
    value = doc.get(name)
    return value[:limit] if isinstance(value, str) else ""


def invite_event(doc: dict[str, Any]) -> port.IncomingCall:
    ref = call_ref(_text(doc, "call_id"))
    return port.IncomingCall(event_id=f"{ref[:80]}:invite", call_ref=ref, dialed=_text(doc, "dialed", MAX_DIALED),
                             caller=caller_of(_text(doc, "from_user"), _text(doc, "from_uri")))


def failure_event(doc: dict[str, Any]) -> port.LegEvent:
    """An operator leg's final failure, by its SIP code: 408/480 no answer, 486/600 busy, 603 rejected."""
    ref, leg = call_ref(_text(doc, "call_id")), _text(doc, "leg", MAX_LEG)
    code = doc.get("code") if isinstance(doc.get("code"), int) else 500
    cls: type[port.LegEvent]
    if code in (408, 480, 487):
        cls = port.LegNoAnswer
    elif code in (486, 600):
        cls = port.LegBusy
    elif code in (603, 403):
        cls = port.LegRejected
    else:
        cls = port.LegFailed
    return cls(event_id=f"{ref[:80]}:{leg}:{cls.type}", call_ref=ref, leg_ref=leg)


def report_event(doc: dict[str, Any]) -> port.Event | None:
    """A progress report (queued in Kamailio, sent by its timer): answered, ended (BYE, or the dialog's
    timeout), failed (the caller's call ended unanswered: a CANCEL, or a refusal after a failed leg)."""
    kind = _text(doc, "type", 20)
    ref, leg = call_ref(_text(doc, "call_id")), _text(doc, "leg", MAX_LEG)
    if kind == "answered" and leg:
        return port.LegAnswered(event_id=f"{ref[:80]}:{leg}:answered", call_ref=ref, leg_ref=leg)
    if kind == "ended":
        return port.Hangup(event_id=f"{ref[:80]}:hangup", call_ref=ref, cause="normal")
    if kind == "failed":
        return port.Hangup(event_id=f"{ref[:80]}:hangup", call_ref=ref, cause="caller_gone")
    return None


@dataclass(frozen=True)
class Decision:
    """Kamailio's next step: ring `uri` for `timeout_ms` as `leg`, or refuse with `code`, `reason`, `headers`."""

    action: str  # ring | refuse | queue
    uri: str = ""
    leg: str = ""
    timeout_ms: int = 0
    retry_ms: int = 0  # queue: ask again after this long
    code: int = 0
    reason: str = ""
    headers: str = ""
    pending_prompt: str = ""  # a Play the ACD waits for: report it finished, then decide again
    untaken: list[str] = field(default_factory=list)  # commands a proxy cannot carry out (for the log)

    def as_dict(self, account: str) -> dict[str, Any]:
        doc: dict[str, Any] = {"action": self.action, "account": account}
        if self.action == "ring":
            doc.update(uri=self.uri, leg=self.leg, timeout_ms=self.timeout_ms)
        elif self.action == "queue":
            doc.update(retry_ms=self.retry_ms)
        else:
            doc.update(code=self.code, reason=self.reason, headers=self.headers)
        return doc


def refusal(code: int, reason: str, text: str = "", retry_after: int = 0) -> Decision:
    headers = f"Retry-After: {retry_after}\r\n" if retry_after else ""
    if text:
        headers += f'Reason: SIP;cause={code};text="{text}"\r\n'
    return Decision("refuse", code=code, reason=reason, headers=headers)


def plan_limit_refusal() -> Decision:
    code = settings.SIP_PLAN_LIMIT_CODE if settings.SIP_PLAN_LIMIT_CODE in PLAN_LIMIT_CODES else 486
    return refusal(code, PLAN_LIMIT_CODES[code], PLAN_LIMIT, settings.SIP_RETRY_AFTER)


def queued() -> Decision:
    return Decision("queue", retry_ms=max(1, settings.SIP_QUEUE_POLL_SECONDS) * 1000)


def decide(commands: list[port.Command]) -> Decision | None:
    """The step the commands ask of a proxy: ring, refuse, or (a hold with no ring) keep the caller waiting;
    None when they ask none a proxy can take (a voicemail, a menu's digits: NO_MEDIA)."""
    untaken = []
    hold = False
    for command in commands:
        if isinstance(command, port.Ring):
            return Decision("ring", uri=command.endpoint, leg=command.leg_ref,
                            timeout_ms=max(1, command.timeout_seconds) * 1000)
        if isinstance(command, port.HangupCall):
            if command.cause == PLAN_LIMIT:
                return plan_limit_refusal()
            code, reason = REFUSALS.get(command.cause, NO_MEDIA)
            return refusal(code, reason, command.cause.upper())
        if isinstance(command, port.Transfer):
            return Decision("refuse", code=302, reason="Moved Temporarily",
                            headers=f"Contact: <tel:{command.destination}>\r\n")
        if isinstance(command, port.Play) and command.notify:
            return Decision("refuse", pending_prompt=command.prompt)
        if isinstance(command, port.StartHold):
            hold = True
        if isinstance(command, port.RecordVoicemail | port.CollectDigits):
            untaken.append(command.type)
    return queued() if hold and not untaken else None
