"""The dialer's answers to the ACD's outbound flow (acd/flows/outbound.py): what happens to an answered
dialer call. Runs inside the ACD's unit of work, so the attempt's changes commit with the call's."""

from __future__ import annotations

from acd.flows.outbound import AnswerPlan
from acd.models import Call
from acd.prompts import prompt_ref, prompt_seconds
from acd.work import Work
from telephony import port
from telephony.choices import BuiltinPrompt

from . import actions
from .choices import AttemptOutcome, CampaignMode, MachineAction

BUILTIN_SAFE_HARBOR = BuiltinPrompt.SAFE_HARBOR.value
BUILTIN_MACHINE_MESSAGE = BuiltinPrompt.MACHINE_MESSAGE.value

NOT_ANSWERED = {
    port.LegNoAnswer: AttemptOutcome.NO_ANSWER,
    port.LegBusy: AttemptOutcome.BUSY,
    port.LegRejected: AttemptOutcome.INVALID,
    port.LegFailed: AttemptOutcome.FAILED,
}


class DialerDirector:
    def claims(self, call: Call) -> bool:
        return actions.lock_attempt_of_call(call.pk) is not None

    def answered(self, call: Call, verdict: str, work: Work) -> AnswerPlan:
        attempt = actions.lock_attempt_of_call(call.pk)
        actions.record_answer(attempt, verdict, work.at)
        campaign = attempt.campaign
        if verdict != "machine":
            # Preview: the operator who read the lead and clicked to dial takes the call (operator is set on
            # the attempt at preview; for the other modes only once an operator is connected).
            preview = campaign.mode == CampaignMode.PREVIEW and attempt.operator_id is not None
            return AnswerPlan(queue_service_id=campaign.service_id,
                              operator_id=attempt.operator_id if preview else None)
        if campaign.machine_action == MachineAction.PLAY_MESSAGE:
            return AnswerPlan(prompt=prompt_ref(campaign.machine_prompt, BUILTIN_MACHINE_MESSAGE),
                              prompt_seconds=prompt_seconds(campaign.machine_prompt))
        return AnswerPlan()

    def not_answered(self, call: Call, event: port.Event, work: Work) -> None:
        attempt = actions.lock_attempt_of_call(call.pk)
        actions.record_no_answer(attempt, NOT_ANSWERED.get(type(event), AttemptOutcome.FAILED), work.at)

    def abandoned(self, call: Call, work: Work) -> tuple[str, float]:
        attempt = actions.lock_attempt_of_call(call.pk)
        actions.record_abandon(attempt, work.at)
        prompt = attempt.campaign.safe_harbor_prompt
        return prompt_ref(prompt, BUILTIN_SAFE_HARBOR), prompt_seconds(prompt)
