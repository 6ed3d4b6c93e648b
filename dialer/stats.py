"""What a campaign has done, as the law and the supervisor count it: the abandon rate of a regulatory window
(Ofcom's machine-share formula under the UK profile), and the campaign page's figures and time series.

Why one module: the estimation loop steers on the same window rate that the page shows and that a regulator
would compute, so the three can never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from budget import actions as budget

from . import compliance
from .choices import AttemptOutcome, DispositionKind, RegulatoryProfile
from .models import Attempt, Campaign

MAX_SERIES_ATTEMPTS = 50_000  # a chart reads at most this many attempts (the newest)


@dataclass(frozen=True)
class WindowRate:
    """The abandon rate of one window. live and abandoned are what the rate is a ratio of (under Ofcom's
    formula, the live-drop estimate and agent-handled live calls plus it), so the pacing feedback can use
    them as counts."""

    start: dt.datetime
    live: float
    abandoned: float

    @property
    def rate(self) -> float:
        return self.abandoned / self.live if self.live else 0.0


def rate_of(profile: str, drops: int, live_answers: int, agent_live: int, agent_machines: int) -> tuple[float, float]:
    """(abandoned, live) of a window from its counts. US (FTC): abandoned over calls answered by a live
    person. UK (Ofcom 2015): drops less their estimated machine share, over agent-handled live calls plus
    that; the share is agent-coded machines over agent-coded live and machines."""
    if profile == RegulatoryProfile.UK:
        coded = agent_live + agent_machines
        live_drops = drops - drops * (agent_machines / coded if coded else 0.0)
        return live_drops, agent_live + live_drops
    return float(drops), float(live_answers)


def _counts(attempts) -> dict[str, int]:
    """drops, live answers (AMD said human), agent-handled live calls, agent-coded machines."""
    machine = Q(disposition__kind=DispositionKind.MACHINE)
    rows = attempts.aggregate(
        drops=_count(Q(outcome=AttemptOutcome.ABANDONED)),
        live_answers=_count(~Q(outcome=AttemptOutcome.MACHINE)),
        agent_live=_count(Q(connected_at__isnull=False) & ~machine),
        agent_machines=_count(Q(connected_at__isnull=False) & machine))
    return {k: v or 0 for k, v in rows.items()}


def _count(condition: Q) -> Count:
    return Count("id", filter=condition)


def window_rate(campaign: Campaign, at: dt.datetime) -> WindowRate:
    """The abandon rate of the window that contains `at` (UK: since midnight in the account's zone; US: the
    30 days before), over the attempts answered in it."""
    start = compliance.window_start(campaign.profile, at, campaign.account.timezone)
    c = _counts(Attempt.objects.filter(campaign=campaign, answered_at__gte=start, answered_at__lte=at))
    abandoned, live = rate_of(campaign.profile, c["drops"], c["live_answers"], c["agent_live"],
                              c["agent_machines"])
    return WindowRate(start, live, abandoned)


def channel_budget(campaign: Campaign) -> int:
    """The channels the campaign may hold in all: the tightest link of the account's chain less the inbound
    reserve."""
    return max(0, min(link.limit for link in budget.chain_of(campaign.account_id)) - campaign.inbound_reserve)
