"""The inbound call's flow, one handler per engine event: from arrival to hang-up.

Each runs inside `acd.events.handle_event`'s transaction with the call row locked (`acd.locks`). An event
that no longer fits the call's state (late, duplicated under another id, out of order) changes nothing,
and where the engine still holds a leg the answer tells it to drop it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.db.models.expressions import RawSQL

from agents.actions import transition_locked
from agents.choices import OperatorState, Via
from agents.models import Operator
from core.validators import normalize_e164
from routing.choices import CodeUnavailableAction, Criterion, NumberPurpose, OverflowAction
from routing.hours import is_open
from routing.models import CallerRoute, Holiday, OpeningHours, PhoneNumber, Service
from telephony import port

from .. import locks
from ..calls import end_call, move, reject, take_channel
from ..choices import CallEventKind, CallState, HangupCause, OfferState, Outcome
from ..legs import cancel_ringing, end_offer, release_after_call, release_operator_after_miss
from ..models import Call, Offer
from ..overflow import overflow, voicemail_recorded
from ..prompts import BUILTIN_CLOSED, BUILTIN_OPERATOR_CODE, prompt_ref, prompt_seconds
from ..queue import enter_queue, requeue_if_nobody_rings
from ..work import Work
from .phone_login import finish_phone_login, start_phone_login
from .transfer import complete_transfer

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
    # The call's key comes from its sequence in the same statement: its row then goes with the unit's writes.
    number = (PhoneNumber.objects.select_related("service", "service__account", "service__welcome_prompt",
                                                 "service__hold_prompt", "account")
              .annotate(call_known=Exists(Call.objects.filter(account_id=account_id, engine_ref=event.call_ref)),
                        has_hours=Exists(OpeningHours.objects.filter(service_id=OuterRef("service_id"))),
                        has_holidays=Exists(Holiday.objects.filter(service_id=OuterRef("service_id"))),
                        next_call_id=RawSQL("nextval(pg_get_serial_sequence(%s, 'id'))", [Call._meta.db_table]))
              .filter(number=dialed, account_id=account_id, is_active=True).order_by()[:1])
    number = next(iter(number), None)
    if number is None:
        if Call.objects.filter(account_id=account_id, engine_ref=event.call_ref).exists():
            return
    elif number.call_known:
        return  # the same call announced twice under two event ids
    call = Call(pk=number.next_call_id if number is not None else None, account_id=account_id, number=number,
                engine_ref=event.call_ref, caller=caller, dialed=dialed, arrived_at=work.at)
    if number is not None and number.purpose == NumberPurpose.OPERATOR_LOGIN:
        start_phone_login(call, work)
        return
    service = resolve_service(number, caller) if number is not None else None
    if service is None or not service.is_active:
        reject(call, work, HangupCause.UNALLOCATED)
        return
    call.service = service
    call.criterion = number.criterion_override or service.criterion
    call.priority = service.priority
    work.save(call)
    work.log(call, CallEventKind.ARRIVED, caller=caller, dialed=dialed)
    if not take_channel(call, work):
        return
    work.command(port.Answer(call_ref=call.engine_ref))
    if (number.has_hours or number.has_holidays or service.pk != number.service_id) and \
            not is_open(service, work.at):
        closed(call, service, work)
        return
    if service.welcome_prompt_id:
        move(call, CallState.WELCOME)
        work.save(call, ["state"])
        work.log(call, CallEventKind.WELCOME)
        work.command(port.Play(call_ref=call.engine_ref, prompt=prompt_ref(service.welcome_prompt, ""),
                               seconds=prompt_seconds(service.welcome_prompt), notify=True))
        return
    after_welcome(call, work)


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
        move(call, CallState.COLLECTING)
        work.save(call, ["state"])
        work.command(port.CollectDigits(call_ref=call.engine_ref, prompt=BUILTIN_OPERATOR_CODE))
        return
    enter_queue(call, work)


def on_prompt_finished(event: port.PromptFinished, call: Call, work: Work) -> None:
    if call.state == CallState.WELCOME:
        after_welcome(call, work)


def on_digits(event: port.Digits, call: Call, work: Work) -> None:
    if call.number is not None and call.number.purpose == NumberPurpose.OPERATOR_LOGIN:
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
        wait = service.code_unavailable_action == CodeUnavailableAction.WAIT
        call.target_until = None if wait else work.at
    enter_queue(call, work)


def on_leg_answered(event: port.LegAnswered, call: Call, work: Work) -> None:
    offer = locks.offer_by_leg(call, event.leg_ref)
    if offer is None or offer.state != OfferState.RINGING:
        # Late answer: the offer expired or went to someone else. Drop the operator's leg.
        work.command(port.CancelLeg(call_ref=call.engine_ref, leg_ref=event.leg_ref))
        return
    end_offer(offer, OfferState.ANSWERED, work)
    op = offer.operator  # locked with the offer
    op.no_answer_streak = 0
    transition_locked(op, OperatorState.ON_CALL, via=Via.ACD, call_id=call.pk, writes=work.writes)
    if offer.is_transfer:
        complete_transfer(call, op, work)
    else:
        if offer.ring_all:  # only ring-all rings several legs at once (the database allows one otherwise)
            cancel_ringing(call, work, except_offer=offer)
        move(call, CallState.CONNECTED)
        if call.answered_at is None:  # a call transferred to another service keeps its first answer
            call.answered_at = work.at
            call.wait_seconds = (work.at - (call.queued_at or call.arrived_at)).total_seconds()
        call.outcome = Outcome.ANSWERED
    call.operator = op
    work.save(call)
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
    offer = locks.offer_by_leg(call, event.leg_ref)
    if offer is None or offer.state != OfferState.RINGING:
        return
    fail_offer(offer, call, LEG_FAILURES[type(event)], work)


def fail_offer(offer: Offer, call: Call, state: str, work: Work) -> None:
    """The operator did not take it: free or pause them, and ring the next one at once."""
    end_offer(offer, state, work)
    release_operator_after_miss(offer, state, call.service, work)
    if offer.is_transfer:
        return
    requeue_if_nobody_rings(call, offer, work)


def on_voicemail(event: port.VoicemailRecorded, call: Call, work: Work) -> None:
    if call.state != CallState.VOICEMAIL or call.voicemail_seconds is not None:
        return
    voicemail_recorded(call, work, event.seconds, event.recording_url)
    work.command(port.HangupCall(call_ref=call.engine_ref))
    end_call(call, work, outcome=Outcome.VOICEMAIL)


def on_hangup(event: port.Hangup, call: Call, work: Work) -> None:
    if event.leg_ref:
        offer = locks.offer_by_leg(call, event.leg_ref)
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
