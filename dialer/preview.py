"""Preview mode: the operator reads the next lead on the console (number, custom fields) and clicks to dial
it, or skips it. These are the actions; dialer/console.py wires them to the console's buttons.

A lead in preview is held by an attempt that names its operator and is not dialled yet (pending, no
`dialed_at`): claimed with SKIP LOCKED like every lead (two operators never see the same one), never resent
by the placement loop (which resends only the operatorless pending attempts a dead worker left), and
released by a skip. Dialling is the ordinary `place_attempt` (the channel budget, the do-not-call list and
the calling hours are checked there, at dial time); when a person answers, the ACD holds the call for that
operator for the 2 s the rule allows (acd/flows/outbound.py, AnswerPlan.operator_id).

The operator is held back from other calls meanwhile (`agents.actions.reserve`: routing offers no call to an
operator whose `backoff_until` is ahead): while they read the lead (up to `PREVIEW_HOLD_SECONDS`), and from
the click until the previewed call is answered (the dialer's director hands the operator that call in the
answer's transaction) or ends unanswered (the reservation ends then). So an inbound call, or another
campaign's call, never rings an operator who is about to dial, and the answered person finds them free.

A hold stands only while its operator is available and held back, and for `PREVIEW_HOLD_SECONDS` at most.
An operator who logs off, is paused or is rung lets it go at once (agents' `reservation_lost`, after that
commit: dialer/receivers.py); the estimation loop's sweep (`release_stale_holds`) lets go of the holds
left longer, and of any the signal missed (a process that died after the commit). A released lead is
not an attempt and is due again at once (not a skip's hour). Lock order: the operator's row, then the
attempt's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from acd.flows.outbound import CONNECT_WITHIN
from agents import actions as presence
from agents.choices import OperatorState
from agents.models import Operator
from core.clock import now
from core.errors import ActionError

from . import actions
from .choices import AttemptOutcome, CampaignMode, CampaignState
from .models import Attempt, Campaign

# After a click on dial the operator stays held back for the ring time, the 2 s rule and this much more
# (answering-machine detection runs after the answer; the engine reports it a moment later).
DIAL_MARGIN = dt.timedelta(seconds=10)


def hold_for() -> dt.timedelta:
    return dt.timedelta(seconds=settings.PREVIEW_HOLD_SECONDS)


def _holds():
    return Attempt.objects.filter(operator__isnull=False, outcome=AttemptOutcome.PENDING, dialed_at__isnull=True,
                                  campaign__mode=CampaignMode.PREVIEW)


def _held(operator_id: int):
    return _holds().filter(operator_id=operator_id)


def _dialing(operator_id: int):
    """The operator's previewed call in flight, not yet put through to them."""
    return Attempt.objects.open().filter(operator_id=operator_id, campaign__mode=CampaignMode.PREVIEW,
                                         dialed_at__isnull=False).exclude(outcome=AttemptOutcome.CONNECTED)


def _campaigns(operator_id: int):
    return Campaign.objects.filter(mode=CampaignMode.PREVIEW, state=CampaignState.RUNNING,
                                   service__memberships__operator_id=operator_id).order_by("pk")


def _stands(op: Operator, attempt: Attempt, at: dt.datetime) -> bool:
    """Whether a hold still stands: its operator available and held back, and not held too long."""
    return (op.state == OperatorState.AVAILABLE and op.backoff_until is not None and op.backoff_until > at
            and attempt.created_at + hold_for() > at)


def card(attempt: Attempt) -> dict[str, Any]:
    """What the console shows of a lead in preview (every value as text)."""
    lead = attempt.lead
    return {"attempt_id": attempt.pk, "campaign": attempt.campaign.name, "phone": lead.phone,
            "timezone": lead.timezone, "attempt_number": lead.attempts,
            "fields": actions.lead_card_fields(lead)}


def preview_state(operator_id: int) -> dict[str, Any]:
    """The console snapshot's part: the lead this operator holds (or None), and whether they serve a running
    preview campaign at all (the console offers the button only then)."""
    held = _held(operator_id).select_related("lead", "lead__lead_list", "campaign").first()
    return {"preview": card(held) if held else None, "preview_ready": _campaigns(operator_id).exists()}


def _lock_operator(operator_id: int) -> Operator:
    op = Operator.objects.select_for_update().filter(pk=operator_id).first()
    if op is None:
        raise ActionError("operator_not_found", _("There is no such operator."))
    return op


def _lock_held(operator_id: int, attempt_id: int | None = None) -> list[Attempt]:
    held = _held(operator_id).select_for_update(of=("self",)).select_related("lead", "lead__lead_list", "campaign")
    if attempt_id is not None:
        held = held.filter(pk=attempt_id)
    return list(held.order_by("pk"))


def _release(attempts: list[Attempt], at: dt.datetime) -> None:
    for attempt in attempts:
        actions.finish_released(attempt, at)


def next_lead(operator_id: int) -> dict[str, Any] | None:
    """Hold the next due lead of a running preview campaign of the operator's services for them to read, and
    hold the operator back from other calls while they read it. Idempotent: an operator who already holds
    one gets it again (a double click, two tabs). None: no lead is due now."""
    found = _next_lead(operator_id)
    if isinstance(found, ActionError):
        raise found  # after the commit of what was let go of on the way
    return found


@transaction.atomic
def _next_lead(operator_id: int) -> dict[str, Any] | ActionError | None:
    op = _lock_operator(operator_id)
    at = now()
    held = _lock_held(op.pk)
    standing = [a for a in held if _stands(op, a, at)]
    _release([a for a in held if a not in standing], at)  # one the sweep has not let go of yet
    if standing:
        return card(standing[0])
    if op.state != OperatorState.AVAILABLE:
        return ActionError("not_available", _("Be available to preview a lead."))
    dialing = _dialing(op.pk).select_related("lead").first()
    if dialing is not None:
        return ActionError("dialing", _("Your call to %(phone)s is still being placed: wait for it to be answered "
                                        "or to end.") % {"phone": dialing.lead.phone})
    for campaign in _campaigns(op.pk):
        claimed = actions.claim_leads(campaign, 1, at)
        if claimed:
            attempt = claimed[0]
            Attempt.objects.filter(pk=attempt.pk).update(operator_id=op.pk)
            presence.reserve(op, attempt.created_at + hold_for())
            attempt = Attempt.objects.select_related("lead", "lead__lead_list", "campaign").get(pk=attempt.pk)
            return card(attempt)
    return None


@transaction.atomic
def _take_for_dialing(operator_id: int, attempt_id: int) -> ActionError | None:
    """The click's first step: the hold must still stand; the operator stays held back until the call is
    answered or ends. A hold that no longer stands is let go of here, and the refusal says so."""
    op = _lock_operator(operator_id)
    held = _lock_held(op.pk, attempt_id)
    if not held:
        return ActionError("not_your_preview", _("This lead is not waiting for you to dial it."))
    attempt, at = held[0], now()
    if _stands(op, attempt, at):
        presence.reserve(op, at + dt.timedelta(seconds=attempt.campaign.ring_seconds) + CONNECT_WITHIN
                         + DIAL_MARGIN)
        return None
    _release(held, at)
    if op.state != OperatorState.AVAILABLE:
        return ActionError("not_available", _("You are not available, so the call would find nobody: the lead "
                                              "went back to its list."))
    return ActionError("preview_expired", _("This lead waited too long for you and went back to its list."))


@transaction.atomic
def _not_placed(operator_id: int) -> None:
    """The click dialled nothing (the channel limit, the do-not-call list, the calling hours): no call is
    coming, so the operator may take calls again."""
    presence.end_reservation(_lock_operator(operator_id))


def dial(operator_id: int, attempt_id: int) -> Attempt:
    """The operator clicked to dial the lead they hold. A second click finds it dialled and is refused.

    Two transactions, so that no operator row stays locked across the originate: the first checks the hold
    and extends the reservation, the second places the call (`place_attempt`, whose conditional claim finds
    a lead let go of in between and dials nothing)."""
    refusal = _take_for_dialing(operator_id, attempt_id)
    if refusal is not None:
        raise refusal
    placed = actions.place_attempt(attempt_id)
    if placed is None:
        raise ActionError("not_your_preview", _("This lead is not waiting for you to dial it."))
    if placed.outcome != AttemptOutcome.RINGING:
        _not_placed(operator_id)
    return placed


@transaction.atomic
def skip(operator_id: int, attempt_id: int) -> None:
    """The operator passes on the lead: not an attempt (not counted), the lead goes back to the list and is
    not previewed again for an hour. The operator may take calls again (or preview the next lead)."""
    op = _lock_operator(operator_id)
    held = _lock_held(op.pk, attempt_id)
    if not held:
        raise ActionError("not_your_preview", _("This lead is not waiting for you to dial it."))
    actions.finish_skipped(held[0], now())
    presence.end_reservation(op)


@transaction.atomic
def release_held(operator_id: int) -> int:
    """Let go of the leads this operator holds whose hold no longer stands (they left the available state,
    are no longer held back, or held it too long): back to their lists, due at once, not counted. Run by
    the `reservation_lost` receiver and by the sweep; re-checked under the locks, so twice is once and a
    hold that stands again (the operator came back and previewed anew) is kept."""
    op = Operator.objects.select_for_update().filter(pk=operator_id).first()
    if op is None:
        return 0
    at = now()
    gone = [a for a in _lock_held(op.pk) if not _stands(op, a, at)]
    _release(gone, at)
    if gone and op.state == OperatorState.AVAILABLE:
        presence.end_reservation(op)  # held too long: calls may ring them again now
    return len(gone)


def release_stale_holds(limit: int = 200) -> int:
    """The periodic sweep (the estimation loop, every 15 s): every hold that no longer stands, each
    operator's in its own short transaction. Idempotent. Returns how many leads went back."""
    at = now()
    due = (_holds().filter(Q(created_at__lte=at - hold_for()) | ~Q(operator__state=OperatorState.AVAILABLE)
                           | Q(operator__backoff_until__isnull=True) | Q(operator__backoff_until__lte=at))
           .order_by("operator_id").values_list("operator_id", flat=True).distinct()[:limit])
    return sum(release_held(operator_id) for operator_id in list(due))
