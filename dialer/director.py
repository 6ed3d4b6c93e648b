"""The dialer's answers to the ACD's outbound flow (acd/flows/outbound.py): what happens to an answered
dialer call. Runs inside the ACD's unit of work, so the attempt's changes commit with the call's."""

from __future__ import annotations

from acd.flows.outbound import AnswerPlan
from acd.models import Call
from acd.prompts import prompt_ref, prompt_seconds
from acd.work import Work
from agents import actions as presence
from agents.models import Operator
from telephony import port
from telephony.choices import BuiltinPrompt

from . import actions
from .choices import AmdVerdict, AttemptOutcome, CampaignMode, MachineAction
from .models import Attempt

BUILTIN_SAFE_HARBOR = BuiltinPrompt.SAFE_HARBOR.value
BUILTIN_MACHINE_MESSAGE = BuiltinPrompt.MACHINE_MESSAGE.value

NOT_ANSWERED = {
    port.LegNoAnswer: AttemptOutcome.NO_ANSWER,
    port.LegBusy: AttemptOutcome.BUSY,
    port.LegRejected: AttemptOutcome.INVALID,
    port.LegFailed: AttemptOutcome.FAILED,
}


def _previewed_by(attempt: Attempt) -> int | None:
    """The operator who clicked to dial this attempt (preview), held back from other calls for it."""
    return attempt.operator_id if attempt.campaign.mode == CampaignMode.PREVIEW else None


def _end_reservation(operator_id: int | None, *, offer: bool) -> None:
    """End the reservation of the operator who dialled (their row locked after the call's and the attempt's,
    the ACD's lock order). With `offer`, the ACD offers them a waiting call after the commit; without, the
    answered call itself is about to ring them in this transaction (routing skips an operator held back)."""
    if operator_id is None:
        return
    op = Operator.objects.select_for_update().filter(pk=operator_id).first()
    if op is not None:
        presence.end_reservation(op, offer=offer)


class DialerDirector:
    def claims(self, call: Call) -> bool:
        return actions.lock_attempt_of_call(call.pk) is not None

    def answered(self, call: Call, verdict: str, work: Work) -> AnswerPlan:
        attempt = actions.lock_attempt_of_call(call.pk)
        actions.record_answer(attempt, verdict, work.at)
        campaign = attempt.campaign
        if verdict != AmdVerdict.MACHINE:
            # Preview: the operator who read the lead and clicked to dial takes the call (operator is set on
            # the attempt at preview; for the other modes only once an operator is connected).
            operator_id = _previewed_by(attempt)
            _end_reservation(operator_id, offer=False)  # handed this call: the ACD rings them now
            return AnswerPlan(queue_service_id=campaign.service_id, operator_id=operator_id)
        _end_reservation(_previewed_by(attempt), offer=True)
        if campaign.machine_action == MachineAction.PLAY_MESSAGE:
            return AnswerPlan(prompt=prompt_ref(campaign.machine_prompt, BUILTIN_MACHINE_MESSAGE),
                              prompt_seconds=prompt_seconds(campaign.machine_prompt))
        return AnswerPlan()

    def not_answered(self, call: Call, event: port.Event, work: Work) -> None:
        attempt = actions.lock_attempt_of_call(call.pk)
        actions.record_no_answer(attempt, NOT_ANSWERED.get(type(event), AttemptOutcome.FAILED), work.at)
        _end_reservation(_previewed_by(attempt), offer=True)

    def abandoned(self, call: Call, work: Work) -> tuple[str, float]:
        attempt = actions.lock_attempt_of_call(call.pk)
        actions.record_abandon(attempt, work.at)
        _end_reservation(_previewed_by(attempt), offer=True)
        prompt = attempt.campaign.safe_harbor_prompt
        return prompt_ref(prompt, BUILTIN_SAFE_HARBOR), prompt_seconds(prompt)
