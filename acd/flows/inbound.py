"""The inbound call's flow, one handler per engine event: from arrival to hang-up.

Each runs inside `acd.events.handle_event`'s transaction with the call row locked (`acd.locks`). An event
that no longer fits the call's state (late, duplicated under another id, out of order) changes nothing,
and where the engine still holds a leg the answer tells it to drop it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from accounts.models import Account
from agents.actions import transition_locked
from agents.choices import OperatorState, Via
from agents.models import Operator
from budget import actions as budget
from core.pipeline import begin_with
from core.validators import normalize_e164
from ivr.models import Menu, MenuNumber
from routing.choices import CodeUnavailableAction, NumberPurpose
from routing.hours import is_open
from routing.models import CallerRoute, Holiday, OpeningHours, PhoneNumber, Prompt, Service
from telephony import port

from .. import locks
from ..calls import elapsed, end_call, move, not_before, reject, take_channel
from ..choices import CallEventKind, CallState, Direction, HangupCause, OfferState, Outcome
from ..criteria import candidates_statement, prelocked_from
from ..legs import cancel_ringing, end_offer, release_after_call, release_operator_after_miss
from ..models import Call, Offer
from ..overflow import voicemail_recorded
from ..prompts import prompt_ref, prompt_seconds
from ..queue import enter_queue, requeue_if_nobody_rings
from ..work import Work
from .entry import after_welcome, closed
from .menu import on_menu_digits, start_menu
from .phone_login import finish_phone_login, start_phone_login
from .transfer import complete_transfer

ABANDON_STATES = frozenset({CallState.OFFERED, CallState.WELCOME, CallState.COLLECTING, CallState.QUEUED,
                            CallState.RINGING})


def _clean_number(raw: str) -> str:
    try:
        return normalize_e164(raw)
    except ValidationError:  # not a phone number (an extension, "anonymous"): keep it as the engine sent it
        return raw.strip()


_CALLS, _NUMBERS, _SERVICES = Call._meta.db_table, PhoneNumber._meta.db_table, Service._meta.db_table
_PROMPTS, _ACCOUNTS = Prompt._meta.db_table, Account._meta.db_table
_MENUS, _MENU_NUMBERS = Menu._meta.db_table, MenuNumber._meta.db_table
_ROUTE = f"""SELECT r.service_id FROM {CallerRoute._meta.db_table} r
 WHERE n.route_by_caller AND r.account_id = n.account_id AND r.prefix = ANY(%(prefixes)s)
 ORDER BY r.prefix DESC LIMIT 1"""  # the longest caller prefix: all are prefixes of one number
_KNOWN = f"EXISTS (SELECT 1 FROM {_CALLS} k WHERE k.account_id = %(account)s AND k.engine_ref = %(ref)s)"
_THE_NUMBER = "n.account_id = %(account)s AND n.number = %(dialed)s AND n.is_active"

# The incoming call's first round trip, with its BEGIN (`core.pipeline.begin_with`), three statements run
# in this order:
# 1. the number, its service (with account and prompts) or its voice menu (with its prompt), the caller
#    route, whether opening hours apply, whether the call is already known, and the call's key from its
#    sequence (its row then goes with the unit's writes);
# 2. the channel from the budget (its conditional upsert, the reseller chain locked in id order), wanted
#    exactly when the flow below takes one: a known, active number for calls whose service is active, or
#    whose menu answers (a number without a service, and no caller route);
# 3. the best free operator by the criterion, when the call will be rung at once (no welcome prompt, no
#    hours to check, no caller route).
_LOOKUP = f"""
SELECT nextval(pg_get_serial_sequence('{_CALLS}', 'id')), {_KNOWN},
       EXISTS (SELECT 1 FROM {OpeningHours._meta.db_table} h WHERE h.service_id = n.service_id),
       EXISTS (SELECT 1 FROM {Holiday._meta.db_table} h WHERE h.service_id = n.service_id),
       ({_ROUTE}),
       {locks.columns(PhoneNumber, "n")}, {locks.columns(Service, "s")}, {locks.columns(Account, "a")},
       {locks.columns(Prompt, "wp")}, {locks.columns(Prompt, "hp")},
       {locks.columns(Menu, "mn")}, {locks.columns(Prompt, "mp")}
  FROM (SELECT 1) one
  LEFT JOIN {_NUMBERS} n ON {_THE_NUMBER}
  LEFT JOIN {_SERVICES} s ON s.id = n.service_id
  LEFT JOIN {_ACCOUNTS} a ON a.id = s.account_id
  LEFT JOIN {_PROMPTS} wp ON wp.id = s.welcome_prompt_id
  LEFT JOIN {_PROMPTS} hp ON hp.id = s.hold_prompt_id
  LEFT JOIN {_MENU_NUMBERS} mnn ON mnn.number_id = n.id AND n.service_id IS NULL
  LEFT JOIN {_MENUS} mn ON mn.id = mnn.menu_id
  LEFT JOIN {_PROMPTS} mp ON mp.id = mn.prompt_id"""
_WANTS_CHANNEL = f"""(EXISTS (
    SELECT 1 FROM {_NUMBERS} n JOIN {_SERVICES} s ON s.id = coalesce(({_ROUTE}), n.service_id)
     WHERE {_THE_NUMBER} AND n.purpose <> '{NumberPurpose.OPERATOR_LOGIN}' AND s.is_active)
  OR EXISTS (
    SELECT 1 FROM {_NUMBERS} n JOIN {_MENU_NUMBERS} mnn ON mnn.number_id = n.id
     WHERE {_THE_NUMBER} AND n.purpose <> '{NumberPurpose.OPERATOR_LOGIN}' AND n.service_id IS NULL
       AND ({_ROUTE}) IS NULL)) AND NOT {_KNOWN}"""
_THE_CALL_ID = f"currval(pg_get_serial_sequence('{_CALLS}', 'id'))"
_RUNG_AT_ONCE = f"""
SELECT n.service_id, coalesce(nullif(n.criterion_override, ''), s.criterion) AS criterion,
       %(at)s::timestamptz AS waited_from
  FROM {_NUMBERS} n JOIN {_SERVICES} s ON s.id = n.service_id
 WHERE {_THE_NUMBER} AND n.purpose <> '{NumberPurpose.OPERATOR_LOGIN}' AND s.is_active
   AND s.welcome_prompt_id IS NULL AND ({_ROUTE}) IS NULL AND NOT {_KNOWN}
   AND NOT EXISTS (SELECT 1 FROM {OpeningHours._meta.db_table} h WHERE h.service_id = n.service_id)
   AND NOT EXISTS (SELECT 1 FROM {Holiday._meta.db_table} h WHERE h.service_id = n.service_id)"""


@dataclass
class Arrival:
    """What the incoming call's first round trip found."""

    call_id: int
    call_known: bool
    number: PhoneNumber | None
    has_hours: bool
    route_service_id: int | None
    menu: Menu | None  # the voice menu the number answers with (read only for a number without a service)
    channel: tuple
    candidates: list[tuple]


def _arrive(account_id: int, call_ref: str, dialed: str, caller: str, at: dt.datetime, *,
            channel_at_commit: bool) -> Arrival:
    params = {**budget.acquire_params(account_id, Direction.INBOUND, call_ref, at), "dialed": dialed,
              "caller": caller, "prefixes": [caller[:n] for n in range(len(caller), 1, -1)] if caller else []}
    lookup, channel, candidates = begin_with([
        (_LOOKUP, params),
        (budget.probe_statement(_WANTS_CHANNEL) if channel_at_commit
         else budget.acquire_statement(_WANTS_CHANNEL, _THE_CALL_ID), params),
        (candidates_statement(_RUNG_AT_ONCE), params)])
    row = lookup[0]
    widths = [len(m._meta.concrete_fields) for m in (PhoneNumber, Service, Account, Prompt, Prompt, Menu, Prompt)]
    parts, at_col = [], 5
    for width in widths:
        parts.append(row[at_col:at_col + width])
        at_col += width
    number = locks.instance(PhoneNumber, parts[0])
    if number is not None and number.service_id is not None:
        service = locks.instance(Service, parts[1])
        service.account = locks.instance(Account, parts[2])
        service.welcome_prompt = locks.instance(Prompt, parts[3])
        service.hold_prompt = locks.instance(Prompt, parts[4])
        number.service = service
    menu = locks.instance(Menu, parts[5])
    if menu is not None:
        menu.prompt = locks.instance(Prompt, parts[6])
    return Arrival(call_id=row[0], call_known=row[1], number=number, has_hours=row[2] or row[3],
                   route_service_id=row[4], menu=menu, channel=channel[0], candidates=candidates)


def resolve_service(number: PhoneNumber, route_service_id: int | None) -> Service | None:
    """The number's service, or with caller routing the longest matching caller prefix's service."""
    if route_service_id is not None and route_service_id != number.service_id:
        return Service.objects.select_related("account", "welcome_prompt", "hold_prompt").get(pk=route_service_id)
    return number.service


def on_incoming(event: port.IncomingCall, account_id: int, work: Work) -> None:
    dialed, caller = _clean_number(event.dialed), _clean_number(event.caller)
    arrival = _arrive(account_id, event.call_ref, dialed, caller, work.at, channel_at_commit=work.channel_at_commit)
    number = arrival.number
    if arrival.call_known:
        return  # the same call announced twice under two event ids
    call = Call(pk=arrival.call_id, account_id=account_id, number=number, engine_ref=event.call_ref,
                caller=caller, dialed=dialed, arrived_at=work.at)
    call.acquired_row = arrival.channel
    call.channel_at_commit = work.channel_at_commit  # the row is a probe: nothing is taken yet
    prelocked_from(arrival.candidates, call)
    _incoming(call, number, arrival, work)
    if ("acquired_row" in call.__dict__ and not work.channel_at_commit
            and budget.held_by(call.__dict__["acquired_row"])):
        # The statement took a channel the flow did not use (their conditions disagree): give it back.
        budget.release_with_commit(call.pk, work.writes)


def _incoming(call: Call, number: PhoneNumber | None, arrival: Arrival, work: Work) -> None:
    if number is not None and number.purpose == NumberPurpose.OPERATOR_LOGIN:
        start_phone_login(call, work)
        return
    if arrival.menu is not None and arrival.route_service_id is None:
        start_menu(call, arrival.menu, work)  # a number answering with a voice menu (a caller route still wins)
        return
    service = resolve_service(number, arrival.route_service_id) if number is not None else None
    if service is None or not service.is_active:
        reject(call, work, HangupCause.UNALLOCATED)
        return
    call.service = service
    call.criterion = number.criterion_override or service.criterion
    call.priority = service.priority
    work.save(call)
    work.log(call, CallEventKind.ARRIVED, caller=call.caller, dialed=call.dialed)
    if not take_channel(call, work):
        return
    work.command(port.Answer(call_ref=call.engine_ref))
    if (arrival.has_hours or service.pk != number.service_id) and not is_open(service, work.at):
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


def on_prompt_finished(event: port.PromptFinished, call: Call, work: Work) -> None:
    if call.state == CallState.WELCOME:
        after_welcome(call, work)


def on_digits(event: port.Digits, call: Call, work: Work) -> None:
    if (call.state == CallState.COLLECTING and call.direction == Direction.INBOUND
            and (call.menu_id is not None or call.service_id is None)):  # a phone log-in is a system call
        on_menu_digits(call, event.digits, work)  # a key pressed in a voice menu (or one deleted meanwhile)
        return
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
            call.answered_at = not_before(call, work.at)
            call.wait_seconds = elapsed(call.queued_at or call.arrived_at, call, work.at)
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
    call.talk_seconds = elapsed(call.answered_at, call, work.at) if call.answered_at else 0.0
    end_call(call, work, outcome=Outcome.ANSWERED)
    if call.operator_id:
        release_after_call(call.operator_id, call, work)
