"""Transfer of a connected call: to another operator, another service, or an external number.

The call keeps one record (and one channel of the budget: domain.md, seed 001 and 003).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from agents.models import Operator
from core.errors import ActionError
from core.validators import normalize_e164
from routing.models import Service
from telephony.port import CancelLeg, StartHold, Transfer

from .. import locks
from ..calls import move
from ..choices import CallEventKind, CallState, OfferState, Outcome
from ..criteria import free_memberships
from ..legs import release_after_call, ring
from ..models import Call, Offer
from ..prompts import BUILTIN_HOLD, prompt_ref
from ..queue import offer_call
from ..unit import unit_of_work
from ..work import Work


def complete_transfer(call: Call, new_operator: Operator, work: Work) -> None:
    """The transfer target answered: the first operator leaves the call and starts wrap-up.

    The engine is told to drop the first operator's leg (`cancel_leg`) before the caller is bridged to the new
    one (`stop_hold`, `bridge` follow): without it the engine kept the first operator on the line. Its
    hangup for that leg, when it comes, changes nothing (the call's operator is the new one by then)."""
    previous = call.operator_id
    work.log(call, CallEventKind.TRANSFERRED, operator_id=new_operator.pk, previous=previous)
    if previous and previous != new_operator.pk:
        first_leg = (Offer.objects.filter(call=call, operator_id=previous, state=OfferState.ANSWERED)
                     .order_by("-created_at", "-pk").values_list("leg_ref", flat=True).first())
        if first_leg:
            work.command(CancelLeg(call_ref=call.engine_ref, leg_ref=first_leg))
        release_after_call(previous, call, work)


def _locked_connected_call(call_id: int, account_id: int) -> Call:
    call = locks.call_by_id(call_id, account_id)
    if call is None:
        raise ActionError("call_not_found", _("There is no such call."))
    if call.state != CallState.CONNECTED:
        raise ActionError("not_connected", _("Only a connected call can be transferred."))
    return call


def transfer_call(call_id: int, account_id: int, *, operator_id: int | None = None,
                  service_id: int | None = None, number: str = "") -> Call:
    """Transfer a connected call. Exactly one target: an operator, a service or an external number."""
    if sum(bool(x) for x in (operator_id, service_id, number)) != 1:
        raise ActionError("one_target", _("Give exactly one target: an operator, a service or a number."))
    with unit_of_work(account_id) as work:
        return _transfer(work, _locked_connected_call(call_id, account_id), account_id, operator_id, service_id,
                         number)


def _transfer(work: Work, call: Call, account_id: int, operator_id: int | None, service_id: int | None,
              number: str) -> Call:
    if number:
        destination = normalize_e164(number)
        move(call, CallState.FORWARDED)
        call.outcome = Outcome.TRANSFERRED
        call.transferred_to = destination
        work.save(call)
        work.log(call, CallEventKind.TRANSFERRED, number=destination)
        work.command(Transfer(call_ref=call.engine_ref, destination=destination))
        if call.operator_id:
            release_after_call(call.operator_id, call, work)
    elif operator_id:
        # Free as routing means it: an operator reading a lead in preview (or in the ACD's back-off) is held
        # back from calls, a supervisor's transfer included (the condition rechecked on the locked row).
        member = locks.skip_locked_operators(free_memberships(account_id, work.at).filter(
            operator_id=operator_id)).first()
        if member is None or operator_id == call.operator_id:
            raise ActionError("operator_unavailable", _("That operator cannot take a call now."))
        ring(call, call.service, [member], work, is_transfer=True)
    else:
        target = Service.objects.select_related("account").filter(pk=service_id, account_id=account_id).first()
        if target is None:
            raise ActionError("service_not_found", _("There is no such service."))
        previous = call.operator_id
        move(call, CallState.QUEUED)
        call.service = target
        call.criterion = target.criterion
        call.priority = target.priority
        call.queued_at = work.at
        call.operator = None
        call.target_operator = None
        work.save(call)
        work.log(call, CallEventKind.TRANSFERRED, service=target.pk)
        work.command(StartHold(call_ref=call.engine_ref, prompt=prompt_ref(target.hold_prompt, BUILTIN_HOLD)))
        if previous:
            release_after_call(previous, call, work)
        offer_call(call, work)
    return call
