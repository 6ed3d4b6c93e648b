"""One handler per telephony event: the call's life from arrival to hang-up.

Each runs inside `actions.handle_event`'s transaction with the call row locked (lock order: call, then
operators). An event that no longer fits the call's state (late, duplicated under another id, out of
order) changes nothing, and where the engine still holds a leg the answer tells it to drop it.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef

from agents.actions import transition_locked
from agents.choices import OperatorState, Via
from agents.models import Operator
from billing import budget
from core.validators import normalize_e164
from routing.choices import Criterion, NumberPurpose, OverflowAction
from routing.hours import is_open
from routing.models import CallerRoute, Holiday, OpeningHours, PhoneNumber, Service, ServiceMembership
from telephony import port

from . import calls
from .choices import CallEventKind, CallState, HangupCause, OfferState, Outcome
from .models import Call, Offer
from .offers import (
    cancel_ringing,
    end_offer,
    offer_call,
    release_operator_after_miss,
    requeue_if_nobody_rings,
)
from .overflow import (
    BUILTIN_BUSY,
    BUILTIN_CLOSED,
    end_call,
    overflow,
    prompt_ref,
    prompt_seconds,
    voicemail_recorded,
)
from .work import Work

ABANDON_STATES = frozenset({CallState.OFFERED, CallState.WELCOME, CallState.COLLECTING, CallState.QUEUED,
                            CallState.RINGING})


def _clean_number(raw: str) -> str:
    try:
        return normalize_e164(raw)
    except ValidationError:  # not a phone number (an extension, "anonymous"): keep it as the engine sent it
        return raw.strip()


def resolve_service(number: PhoneNumber, caller: str) -> Service | None:
    """The number's service, or with caller routing the longest matching caller prefix's service."""
    if number.route_by_caller and caller:
        prefixes = [caller[:n] for n in range(len(caller), 1, -1)]
        route = (CallerRoute.objects.select_related("service", "service__account")
                 .filter(account_id=number.account_id, prefix__in=prefixes).order_by("-prefix").first())
        if route is not None:
            return route.service
    return number.service


def on_incoming(event: port.IncomingCall, account_id: int, work: Work) -> None:
    dialed, caller = _clean_number(event.dialed), _clean_number(event.caller)
    # One round trip: the number, its service, whether this call is already known, whether hours apply.
    number = (PhoneNumber.objects.select_related("service", "service__account", "service__welcome_prompt",
                                                 "service__hold_prompt", "account")
              .annotate(call_known=Exists(Call.objects.filter(account_id=account_id, engine_ref=event.call_ref)),
                        has_hours=Exists(OpeningHours.objects.filter(service_id=OuterRef("service_id"))),
                        has_holidays=Exists(Holiday.objects.filter(service_id=OuterRef("service_id"))))
              .filter(number=dialed, account_id=account_id, is_active=True).first())
    if number is None:
        if Call.objects.filter(account_id=account_id, engine_ref=event.call_ref).exists():
            return
    elif number.call_known:
        return  # the same call announced twice under two event ids
    call = Call(account_id=account_id, number=number, engine_ref=event.call_ref, caller=caller, dialed=dialed,
                arrived_at=work.at)
    if number is not None and number.purpose == NumberPurpose.OPERATOR_LOGIN:
        from .phone_login import start_phone_login

        start_phone_login(call, work)
        return
    service = resolve_service(number, caller) if number is not None else None
    if service is None or not service.is_active:
        reject(call, work, HangupCause.UNALLOCATED)
        return
    call.service = service
    call.criterion = number.criterion_override or service.criterion
    call.priority = service.priority
    call.save()
    work.log(call, CallEventKind.ARRIVED, caller=caller, dialed=dialed)
    if not take_channel(call, work):
        return
    work.command(port.Answer(call_ref=call.engine_ref))
    if (number.has_hours or number.has_holidays or service.pk != number.service_id) and \
            not is_open(service, work.at):
        closed(call, service, work)
        return
    if service.welcome_prompt_id:
        calls.move(call, CallState.WELCOME)
        call.save(update_fields=["state"])
        work.log(call, CallEventKind.WELCOME)
        work.command(port.Play(call_ref=call.engine_ref, prompt=prompt_ref(service.welcome_prompt, ""),
                               seconds=prompt_seconds(service.welcome_prompt), notify=True))
        return
    after_welcome(call, work)


def take_channel(call: Call, work: Work) -> bool:
    """The concurrency budget decides before the call is answered (domain.md, seed 003)."""
    limited_by = budget.acquire(call, call.direction)
    if limited_by is None:
        return True
    busy = call.service.busy_prompt if call.service else None
    work.command(port.Play(call_ref=call.engine_ref, prompt=prompt_ref(busy, BUILTIN_BUSY),
                           seconds=prompt_seconds(busy)))
    work.log(call, CallEventKind.REJECTED, cause=HangupCause.REACH_PLAN_LIMIT, limited_by=limited_by.pk)
    call.state = CallState.ENDED
    call.outcome = Outcome.REJECTED
    call.end_cause = HangupCause.REACH_PLAN_LIMIT
    call.ended_at = work.at
    call.save()
    work.command(port.HangupCall(call_ref=call.engine_ref, cause=HangupCause.REACH_PLAN_LIMIT))
    return False


def reject(call: Call, work: Work, cause: str) -> None:
    """Refuse a call before answering it (unknown number, no service, plan limit)."""
    call.state = CallState.ENDED
    call.outcome = Outcome.REJECTED
    call.end_cause = cause
    call.ended_at = work.at
    call.save()
    work.log(call, CallEventKind.REJECTED, cause=cause)
    work.command(port.HangupCall(call_ref=call.engine_ref, cause=cause))


def closed(call: Call, service: Service, work: Work) -> None:
    work.log(call, CallEventKind.OVERFLOWED, action=service.closed_action, reason="closed")
    work.command(port.Play(call_ref=call.engine_ref, prompt=prompt_ref(service.closed_prompt, BUILTIN_CLOSED),
                           seconds=prompt_seconds(service.closed_prompt)))
    if service.closed_action in (OverflowAction.VOICEMAIL, OverflowAction.REDIRECT):
        overflow(call, work, reason="closed", action_override=service.closed_action)
        return
    work.command(port.HangupCall(call_ref=call.engine_ref, cause=HangupCause.CLOSED))
    end_call(call, work, outcome=Outcome.CLOSED, cause=HangupCause.CLOSED)


def after_welcome(call: Call, work: Work) -> None:
    if call.criterion == Criterion.OPERATOR_CODE:
        calls.move(call, CallState.COLLECTING)
        call.save(update_fields=["state"])
        work.command(port.CollectDigits(call_ref=call.engine_ref, prompt="builtin:enter-operator-code"))
        return
    enter_queue(call, work)


def _sticky_target(call: Call, service: Service, work: Work) -> None:
    """Last-operator criterion: the operator who last answered this caller, within the window."""
    if not call.caller:
        return
    since = work.at - dt.timedelta(days=service.sticky_window_days)
    last = (Call.objects.filter(account_id=call.account_id, caller=call.caller, answered_at__gte=since,
                                operator__isnull=False).order_by("-answered_at").values_list("operator_id",
                                                                                              flat=True).first())
    if last and ServiceMembership.objects.filter(service=service, operator_id=last).exists():
        call.target_operator_id = last
        call.target_until = work.at + dt.timedelta(seconds=service.sticky_wait_seconds)


def enter_queue(call: Call, work: Work) -> None:
    service = call.service
    calls.move(call, CallState.QUEUED)
    call.queued_at = work.at
    if service.overflow_action != OverflowAction.HOLD:
        call.queue_deadline = work.at + dt.timedelta(seconds=service.max_wait_seconds)
    if call.criterion == Criterion.LAST_OPERATOR:
        _sticky_target(call, service, work)
    work.log(call, CallEventKind.ENTERED_QUEUE, target=call.target_operator_id)
    work.command(port.StartHold(call_ref=call.engine_ref, prompt=prompt_ref(service.hold_prompt, "builtin:hold")))
    if offer_call(call, work):
        return  # ring() saved the call
    call.save()
    if service.overflow_when_nobody_logged_in and not ServiceMembership.objects.filter(
            service=service, operator__is_active=True).exclude(operator__state=OperatorState.LOGGED_OUT).exists():
        overflow(call, work, reason="no_operator")


def on_prompt_finished(event: port.PromptFinished, call: Call, work: Work) -> None:
    if call.state == CallState.WELCOME:
        after_welcome(call, work)


def on_digits(event: port.Digits, call: Call, work: Work) -> None:
    if call.number is not None and call.number.purpose == NumberPurpose.OPERATOR_LOGIN:
        from .phone_login import finish_phone_login

        finish_phone_login(call, event.digits, work)  # never logs the digits: they hold a PIN
        return
    work.log(call, CallEventKind.DIGITS, digits=event.digits)
    if call.state != CallState.COLLECTING:
        return
    service = call.service
    code = event.digits.strip("#*")
    target = (Operator.objects.filter(account_id=call.account_id, code=int(code), is_active=True,
                                      memberships__service=service).values_list("id", flat=True).first()
              if code.isdigit() and len(code) <= 6 else None)
    if target is not None:
        call.target_operator_id = target
        wait = service.code_unavailable_action == "wait"
        call.target_until = None if wait else work.at
    enter_queue(call, work)


def _offer_for(event: port.LegEvent, call: Call) -> Offer | None:
    return (Offer.objects.select_for_update(of=("self",)).select_related("call")
            .filter(call=call, leg_ref=event.leg_ref).first())


def on_leg_answered(event: port.LegAnswered, call: Call, work: Work) -> None:
    offer = _offer_for(event, call)
    if offer is None or offer.state != OfferState.RINGING:
        # Late answer: the offer expired or went to someone else. Drop the operator's leg.
        work.command(port.CancelLeg(call_ref=call.engine_ref, leg_ref=event.leg_ref))
        return
    end_offer(offer, OfferState.ANSWERED, work)
    op = Operator.objects.select_for_update(of=("self",)).get(pk=offer.operator_id)
    op.no_answer_streak = 0
    transition_locked(op, OperatorState.ON_CALL, via=Via.ACD, call_id=call.pk)
    if offer.is_transfer:
        from .transfer import complete_transfer

        complete_transfer(call, op, work)
    else:
        cancel_ringing(call, work, except_offer=offer)
        calls.move(call, CallState.CONNECTED)
        if call.answered_at is None:  # a call transferred to another service keeps its first answer
            call.answered_at = work.at
            call.wait_seconds = (work.at - (call.queued_at or call.arrived_at)).total_seconds()
        call.outcome = Outcome.ANSWERED
    call.operator = op
    call.save()
    work.log(call, CallEventKind.CONNECTED, operator_id=op.pk, leg=offer.leg_ref)
    work.command(port.StopHold(call_ref=call.engine_ref), port.Bridge(call_ref=call.engine_ref,
                                                                      leg_ref=offer.leg_ref))


LEG_FAILURES = {
    port.LegNoAnswer: OfferState.NO_ANSWER,
    port.LegBusy: OfferState.BUSY,
    port.LegRejected: OfferState.REJECTED,
    port.LegFailed: OfferState.FAILED,
}


def on_leg_failed(event: port.LegEvent, call: Call, work: Work) -> None:
    offer = _offer_for(event, call)
    if offer is None or offer.state != OfferState.RINGING:
        return
    fail_offer(offer, call, LEG_FAILURES[type(event)], work)


def fail_offer(offer: Offer, call: Call, state: str, work: Work) -> None:
    """The operator did not take it: free or pause them, and ring the next one at once."""
    end_offer(offer, state, work)
    release_operator_after_miss(offer, state, call.service, work)
    if offer.is_transfer:
        return
    requeue_if_nobody_rings(call, work)


def on_leg_ringing(event: port.LegRinging, call: Call, work: Work) -> None:
    """Informational: the endpoint is alerting. The expiry clock already runs from the Ring command."""


def on_voicemail(event: port.VoicemailRecorded, call: Call, work: Work) -> None:
    if call.state != CallState.VOICEMAIL or call.voicemail_seconds is not None:
        return
    voicemail_recorded(call, work, event.seconds, event.recording_url)
    work.command(port.HangupCall(call_ref=call.engine_ref))
    end_call(call, work, outcome=Outcome.VOICEMAIL)


def on_hangup(event: port.Hangup, call: Call, work: Work) -> None:
    if event.leg_ref:
        offer = _offer_for(port.LegEvent(event_id="", call_ref=call.engine_ref, leg_ref=event.leg_ref), call)
        if offer is None:
            return
        if offer.state == OfferState.RINGING:
            fail_offer(offer, call, OfferState.REJECTED, work)
            return
        if not (offer.state == OfferState.ANSWERED and call.state == CallState.CONNECTED
                and call.operator_id == offer.operator_id):
            return
        # The operator hung up a connected call: the call is over (the engine clears the caller's leg).
        work.command(port.HangupCall(call_ref=call.engine_ref))
    if call.state == CallState.ENDED:
        return
    if call.state in ABANDON_STATES:
        cancel_ringing(call, work)
        work.log(call, CallEventKind.ABANDONED)
        end_call(call, work, outcome=Outcome.ABANDONED)
    elif call.state == CallState.CONNECTED:
        finish_connected(call, work)
    else:  # voicemail, forwarded: the outcome was set when the call took that way out
        end_call(call, work, outcome=call.outcome or Outcome.ANSWERED)


def finish_connected(call: Call, work: Work) -> None:
    """End of a conversation: talk time, then the operator's wrap-up (or straight back to available)."""
    cancel_ringing(call, work)  # a transfer still ringing another operator
    call.talk_seconds = (work.at - call.answered_at).total_seconds() if call.answered_at else 0.0
    end_call(call, work, outcome=Outcome.ANSWERED)
    if call.operator_id:
        release_after_call(call.operator_id, call, work)


def release_after_call(operator_id: int, call: Call, work: Work) -> None:
    op = Operator.objects.select_for_update(of=("self",)).get(pk=operator_id)
    if op.state != OperatorState.ON_CALL:
        return
    op.last_call_ended_at = work.at
    wrapup = call.service.wrapup_seconds if call.service else 0
    if wrapup:
        op.wrapup_until = work.at + dt.timedelta(seconds=wrapup)
        transition_locked(op, OperatorState.WRAP_UP, via=Via.ACD, call_id=call.pk)
    else:
        transition_locked(op, OperatorState.AVAILABLE, via=Via.ACD, call_id=call.pk)
        work.freed_operators.append(op.pk)


CALL_HANDLERS = {
    port.PromptFinished: on_prompt_finished,
    port.Digits: on_digits,
    port.LegRinging: on_leg_ringing,
    port.LegAnswered: on_leg_answered,
    port.LegNoAnswer: on_leg_failed,
    port.LegBusy: on_leg_failed,
    port.LegRejected: on_leg_failed,
    port.LegFailed: on_leg_failed,
    port.VoicemailRecorded: on_voicemail,
    port.Hangup: on_hangup,
}
