"""Preview mode: the operator reads the next lead on the console (number, custom fields) and clicks to dial
it, or skips it. These are the actions; dialer/console.py wires them to the console's buttons.

A lead in preview is held by an attempt that names its operator and is not dialled yet (pending, no
`dialed_at`): claimed with SKIP LOCKED like every lead (two operators never see the same one), never resent
by the placement loop (which resends only the operatorless pending attempts a dead worker left), and
released by a skip. Dialling is the ordinary `place_attempt` (the channel budget, the do-not-call list and
the calling hours are checked there, at dial time); when a person answers, the ACD holds the call for that
operator for the 2 s the rule allows (acd/flows/outbound.py, AnswerPlan.operator_id).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from agents.choices import OperatorState
from agents.models import Operator
from core.clock import now
from core.errors import ActionError

from . import actions
from .choices import AttemptOutcome, CampaignMode, CampaignState
from .models import Attempt, Campaign


def _held(operator_id: int):
    return Attempt.objects.filter(operator_id=operator_id, outcome=AttemptOutcome.PENDING,
                                  dialed_at__isnull=True, campaign__mode=CampaignMode.PREVIEW)


def _campaigns(operator_id: int):
    return Campaign.objects.filter(mode=CampaignMode.PREVIEW, state=CampaignState.RUNNING,
                                   service__memberships__operator_id=operator_id).order_by("pk")


def card(attempt: Attempt) -> dict[str, Any]:
    """What the console shows of a lead in preview (every value as text)."""
    lead = attempt.lead
    return {"attempt_id": attempt.pk, "campaign": attempt.campaign.name, "phone": lead.phone,
            "timezone": lead.timezone, "attempt_number": attempt.number,
            "fields": actions.lead_card_fields(lead)}


def preview_state(operator_id: int) -> dict[str, Any]:
    """The console snapshot's part: the lead this operator holds (or None), and whether they serve a running
    preview campaign at all (the console offers the button only then)."""
    held = _held(operator_id).select_related("lead", "lead__lead_list", "campaign").first()
    return {"preview": card(held) if held else None, "preview_ready": _campaigns(operator_id).exists()}


@transaction.atomic
def next_lead(operator_id: int) -> dict[str, Any] | None:
    """Hold the next due lead of a running preview campaign of the operator's services for them to read.
    Idempotent: an operator who already holds one gets it again (a double click, two tabs). None: no lead
    is due now."""
    op = Operator.objects.select_for_update().filter(pk=operator_id).first()
    if op is None:
        raise ActionError("operator_not_found", _("There is no such operator."))
    held = _held(op.pk).select_related("lead", "lead__lead_list", "campaign").first()
    if held is not None:
        return card(held)
    if op.state != OperatorState.AVAILABLE:
        raise ActionError("not_available", _("Be available to preview a lead."))
    at = now()
    for campaign in _campaigns(op.pk):
        claimed = actions.claim_leads(campaign, 1, at)
        if claimed:
            attempt = claimed[0]
            Attempt.objects.filter(pk=attempt.pk).update(operator_id=op.pk)
            attempt = Attempt.objects.select_related("lead", "lead__lead_list", "campaign").get(pk=attempt.pk)
            return card(attempt)
    return None


def _own_attempt(operator_id: int, attempt_id: int) -> Attempt:
    attempt = _held(operator_id).select_for_update(of=("self",)).select_related(
        "lead", "campaign").filter(pk=attempt_id).first()
    if attempt is None:
        raise ActionError("not_your_preview", _("This lead is not waiting for you to dial it."))
    return attempt


@transaction.atomic
def dial(operator_id: int, attempt_id: int) -> Attempt:
    """The operator clicked to dial the lead they hold. A second click finds it dialled and is refused."""
    _own_attempt(operator_id, attempt_id)
    state = Operator.objects.filter(pk=operator_id).values_list("state", flat=True).first()
    if state != OperatorState.AVAILABLE:
        raise ActionError("not_available", _("Be available to dial: the call would find nobody."))
    placed = actions.place_attempt(attempt_id)
    if placed is None:
        raise ActionError("not_your_preview", _("This lead is not waiting for you to dial it."))
    return placed


@transaction.atomic
def skip(operator_id: int, attempt_id: int) -> None:
    """The operator passes on the lead: not an attempt (not counted), the lead goes back to the list and is
    not previewed again for an hour."""
    attempt = _own_attempt(operator_id, attempt_id)
    actions.finish_skipped(attempt, now())
