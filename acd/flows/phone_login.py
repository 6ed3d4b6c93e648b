"""Operators by phone (seed 001): log in, pause, resume or log off with code and PIN over DTMF.

The operator calls the account's login number and types CODE*PIN*ACTION (1 login, 2 pause, 3 resume,
9 log off), e.g. 101*1234*1.
"""

from __future__ import annotations

from agents import actions as presence
from agents import lockout
from agents.choices import Via
from agents.models import Operator
from core.errors import ActionError
from telephony import port
from telephony.choices import BuiltinPrompt

from ..calls import end_call, move, take_channel
from ..choices import CallEventKind, CallState, Direction, Outcome
from ..models import Call
from ..work import Work

PHONE_ACTIONS = {"1": presence.login_operator, "2": presence.pause_operator, "3": presence.resume_operator,
                 "9": presence.logoff_operator}
PROMPT_ASK = BuiltinPrompt.OPERATOR_LOGIN.value
PROMPT_OK = BuiltinPrompt.OPERATOR_LOGIN_OK.value
PROMPT_REFUSED = BuiltinPrompt.OPERATOR_LOGIN_REFUSED.value


def start_phone_login(call: Call, work: Work) -> None:
    call.outcome = Outcome.SERVICE_CALL
    call.direction = Direction.SYSTEM
    work.save(call)
    if not take_channel(call, work):  # a service call holds a channel like any other
        return
    move(call, CallState.COLLECTING)
    work.save(call, ["state"])
    work.log(call, CallEventKind.ARRIVED, caller=call.caller, dialed=call.dialed, purpose="operator_login")
    work.command(port.Answer(call_ref=call.engine_ref),
                 port.CollectDigits(call_ref=call.engine_ref, prompt=PROMPT_ASK, max_digits=20, timeout_seconds=15))


def finish_phone_login(call: Call, digits: str, work: Work) -> None:
    if call.state != CallState.COLLECTING:
        return
    result = PROMPT_REFUSED
    parts = digits.strip("#").split("*")
    if len(parts) == 3 and parts[0].isdigit() and parts[2] in PHONE_ACTIONS:
        code, pin, action = parts
        op = (Operator.objects.filter(account_id=call.account_id, code=int(code), is_active=True).first()
              if len(code) <= 9 else None)
        # A locked PIN is refused without checking it; every other answer costs one hash (no timing oracle).
        if op is None or lockout.pin_locked(op.pk):
            lockout.burn_a_hash(pin)
        elif not op.check_pin(pin):
            lockout.pin_failed(op.pk)
        else:
            lockout.pin_succeeded(op.pk)
            try:
                PHONE_ACTIONS[action](op.pk, via=Via.PHONE)
                result = PROMPT_OK
            except ActionError:
                result = PROMPT_REFUSED
    work.log(call, CallEventKind.DIGITS, result=result)
    work.command(port.Play(call_ref=call.engine_ref, prompt=result, seconds=2.0),
                 port.HangupCall(call_ref=call.engine_ref))
    end_call(call, work, outcome=Outcome.SERVICE_CALL)
