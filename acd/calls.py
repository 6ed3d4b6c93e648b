"""The call state machine: every change of a call's state goes through `move()`."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.errors import IllegalTransition

from .choices import CallState
from .models import Call

C = CallState

_WAYS_OUT = frozenset({C.VOICEMAIL, C.FORWARDED, C.ENDED})
CALL_TRANSITIONS: dict[str, frozenset[str]] = {
    C.OFFERED: frozenset({C.WELCOME, C.COLLECTING, C.QUEUED}) | _WAYS_OUT,
    C.WELCOME: frozenset({C.COLLECTING, C.QUEUED}) | _WAYS_OUT,
    C.COLLECTING: frozenset({C.QUEUED}) | _WAYS_OUT,
    C.QUEUED: frozenset({C.RINGING}) | _WAYS_OUT,
    C.RINGING: frozenset({C.CONNECTED, C.QUEUED}) | _WAYS_OUT,
    C.CONNECTED: frozenset({C.QUEUED, C.FORWARDED, C.ENDED}),
    C.VOICEMAIL: frozenset({C.ENDED}),
    C.FORWARDED: frozenset({C.ENDED}),
    C.ENDED: frozenset(),
}


def move(call: Call, to_state: str) -> None:
    """Change the state in memory (the caller saves), refusing what the state machine forbids."""
    if to_state not in CALL_TRANSITIONS[call.state]:
        raise IllegalTransition(
            "illegal_call_transition",
            _("A call that is %(from)s cannot become %(to)s.") % {"from": C(call.state).label,
                                                                  "to": C(to_state).label})
    call.state = to_state


def lock_call(account_id: int, call_ref: str) -> Call | None:
    return (Call.objects.select_for_update(of=("self",)).select_related("service", "service__account")
            .filter(account_id=account_id, engine_ref=call_ref).first())
