"""The two loops that pace a campaign, on the database: placement (every second) and estimation (every 15 s).

Each campaign is paced by one worker at a time: the placement loop first takes the campaign's lease with one
conditional UPDATE (free, expired, or already its own); a second beat or a second worker finds it taken and
does nothing. The lease is short (a few seconds), so a worker killed mid-campaign is replaced at once by the
next tick on another worker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import socket
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from acd.choices import CallState
from acd.models import Call
from agents.choices import OperatorState
from agents.models import Operator
from core.clock import now

from . import actions, compliance, pacing, stats
from .choices import AttemptOutcome, CampaignMode, CampaignState
from .models import Attempt, Campaign

LEASE = dt.timedelta(seconds=5)
# An attempt created but not dialled after this long lost its originate task (a worker killed with it
# reserved: Redis would redeliver it only after its visibility timeout). The placement loop sends it again;
# the attempt's conditional claim makes a late duplicate harmless.
STALE_PENDING = dt.timedelta(seconds=10)
HISTORY = 3000  # finished dials the estimation loop learns from
OWNER = f"{socket.gethostname()}:{os.getpid()}"


def take_lease(campaign_id: int, owner: str = OWNER, at: dt.datetime | None = None) -> bool:
    """One conditional UPDATE: the campaign is running and its lease is free, expired or ours."""
    at = at or now()
    return Campaign.objects.filter(
        Q(pacing_lease_until__isnull=True) | Q(pacing_lease_until__lt=at) | Q(pacing_lease_owner=owner),
        pk=campaign_id, state=CampaignState.RUNNING,
    ).update(pacing_lease_until=at + LEASE, pacing_lease_owner=owner) == 1


def _estimates(campaign: Campaign) -> tuple[pacing.Estimates, pacing.Control]:
    doc = campaign.pacing or {}
    est = doc.get("estimates")
    estimates = pacing.Estimates(**{k: tuple(tuple(r) for r in v) if k == "answer_by" else
                                    (tuple(v) if isinstance(v, list) else v) for k, v in est.items()}) \
        if est else pacing.Estimates()
    control = pacing.Control(threshold=doc.get("threshold", pacing.Control().threshold))
    return estimates, control


def floor_state(campaign: Campaign, at: dt.datetime) -> pacing.FloorState:
    """The campaign's floor as the pacing policy reads it: its service's operators, its calls in flight,
    the channel headroom after the inbound reserve."""
    # An operator held back from calls (`backoff_until` ahead: reading a lead in preview, waiting for the call
    # they dialled from it, or the ACD's short back-off after a missed offer) is available, but routing offers
    # them nothing: not free for this campaign's calls either.
    ops = list(Operator.objects.filter(memberships__service_id=campaign.service_id, is_active=True)
               .exclude(state__in=[OperatorState.LOGGED_OUT, OperatorState.PAUSED])
               .values("state", "state_changed_at", "wrapup_until", "backoff_until"))
    free = sum(1 for o in ops if o["state"] == OperatorState.AVAILABLE
               and not (o["backoff_until"] is not None and o["backoff_until"] > at))
    wrap = [max(0.0, (o["wrapup_until"] - at).total_seconds()) for o in ops
            if o["state"] == OperatorState.WRAP_UP and o["wrapup_until"]]
    talk = [max(0.0, (at - o["state_changed_at"]).total_seconds()) for o in ops
            if o["state"] == OperatorState.ON_CALL and o["state_changed_at"]]
    open_attempts = list(Attempt.objects.open().filter(campaign=campaign)
                         .values("outcome", "created_at", "dialed_at"))
    ringing = [max(0.0, (at - (a["dialed_at"] or a["created_at"])).total_seconds()) for a in open_attempts
               if a["outcome"] in (AttemptOutcome.PENDING, AttemptOutcome.RINGING)]
    waiting = sum(1 for a in open_attempts if a["outcome"] == AttemptOutcome.LIVE)
    return pacing.FloorState(operators=len(ops), free=free, wrap_remaining_s=wrap, talk_elapsed_s=talk,
                             ringing_age_s=ringing, waiting_live=waiting,
                             channels_free=actions.channel_headroom(campaign),
                             max_dial_ratio=campaign.max_dial_ratio, max_calls=20)


@dataclass(frozen=True)
class Tick:
    placed: list[int]
    decision: pacing.Decision | None


def place_tick(campaign_id: int, *, owner: str = OWNER) -> Tick:
    """One placement decision for one campaign: how many calls, which leads. The attempts are created here
    (claimed leads, SKIP LOCKED) and dialled by their own idempotent tasks (`place_attempt`)."""
    at = now()
    if not take_lease(campaign_id, owner, at):
        return Tick([], None)
    actions.sync_attempts(campaign_id)
    with transaction.atomic():
        campaign = Campaign.objects.select_related("service").get(pk=campaign_id)
        if campaign.mode == CampaignMode.PREVIEW:
            return Tick([], None)  # the operator dials from the console (dialer/preview.py)
        state = floor_state(campaign, at)
        if campaign.mode == CampaignMode.PROGRESSIVE:
            decision = pacing.Decision(pacing.progressive_calls(state), "progressive")
        else:
            est, control = _estimates(campaign)
            budget_for_campaign = state.channels_free + len(state.ringing_age_s) + state.waiting_live \
                + len(state.talk_elapsed_s)
            decision = pacing.calls_to_place(state, est, control, channel_budget=budget_for_campaign)
        attempts = actions.claim_leads(campaign, decision.calls, at)
    # (An attempt an operator holds in preview is theirs to dial or skip, however long they read it.)
    stale = list(Attempt.objects.filter(campaign_id=campaign_id, outcome=AttemptOutcome.PENDING,
                                        dialed_at__isnull=True, created_at__lt=at - STALE_PENDING,
                                        operator__isnull=True)
                 .values_list("pk", flat=True)[:100])
    return Tick([*stale, *(a.pk for a in attempts)], decision)


def estimate_campaign(campaign_id: int) -> pacing.Estimates | None:
    """The estimation loop: live-answer rate, ring-to-answer, handle times and the abandon feedback."""
    campaign = Campaign.objects.filter(pk=campaign_id, state=CampaignState.RUNNING).select_related(
        "account").first()
    if campaign is None:
        return None
    at = now()
    rows = list(Attempt.objects.filter(campaign=campaign, dialed_at__isnull=False, ended_at__isnull=False)
                .exclude(outcome__in=[AttemptOutcome.REFUSED, AttemptOutcome.BLOCKED])
                .order_by("-ended_at").values("outcome", "dialed_at", "answered_at", "ended_at",
                                              "call__talk_seconds")[:HISTORY])
    history, talks = [], []
    for r in rows:
        live = r["answered_at"] is not None and r["outcome"] != AttemptOutcome.MACHINE
        end = r["answered_at"] if live else r["ended_at"]
        history.append(pacing.Resolved((end - r["dialed_at"]).total_seconds(), live))
        if r["call__talk_seconds"]:
            talks.append(r["call__talk_seconds"])
    est, control = _estimates(campaign)
    est = pacing.estimate(history, talks, est)
    # The window's rate as the law counts it (Ofcom's machine-share formula under the UK profile).
    counted = stats.window_rate(campaign, at)
    lives, abandoned = round(counted.live), round(counted.abandoned)
    recent = list(Attempt.objects.filter(campaign=campaign, answered_at__gte=counted.start).exclude(
        outcome=AttemptOutcome.MACHINE).order_by("-answered_at").values_list("outcome", flat=True)[:300])
    operators = Operator.objects.filter(memberships__service_id=campaign.service_id).exclude(
        state=OperatorState.LOGGED_OUT).count()
    control = pacing.update_control(
        control, window_live=lives, window_abandoned=abandoned, target=campaign.abandon_target,
        recent_live=len(recent), recent_abandoned=sum(1 for o in recent if o == AttemptOutcome.ABANDONED),
        expected_window_lives=pacing.expected_window_lives(max(operators, 1), min(
            compliance.window_hours(campaign.profile), 8.0), est))
    doc = {"estimates": dataclasses.asdict(est), "threshold": control.threshold, "at": at.isoformat(),
           "window_live": lives, "window_abandoned": abandoned, "window_rate": counted.rate}
    Campaign.objects.filter(pk=campaign.pk).update(pacing=doc)
    return est


def running_campaign_ids() -> list[int]:
    return list(Campaign.objects.filter(state=CampaignState.RUNNING).values_list("pk", flat=True))


def campaigns_with_open_attempts() -> list[int]:
    """Paused or finished campaigns still have calls in flight: their attempts are brought up to date too
    (only while a call is in flight: a connected attempt whose call ended is finished)."""
    return list(Attempt.objects.open().exclude(
        campaign__state=CampaignState.RUNNING).order_by().values_list("campaign_id", flat=True).distinct())


def calls_in_flight(campaign_id: int) -> int:
    return Call.objects.filter(dialer_attempt__campaign_id=campaign_id).exclude(state=CallState.ENDED).count()
