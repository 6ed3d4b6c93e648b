"""What a campaign has done, as the law and the supervisor count it: the abandon rate of a regulatory window
(Ofcom's machine-share formula under the UK profile), and the campaign page's figures and time series.

Why one module: the estimation loop steers on the same window rate that the page shows and that a regulator
would compute, so the three can never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from agents.choices import OperatorState
from agents.models import Operator, OperatorEvent
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


# --- the campaign page -------------------------------------------------------------------------------------

PERIODS_HOURS = (1, 6, 24, 72)   # the chart windows offered; anything else is read as the default
DEFAULT_HOURS = 24
BUSY_STATES = frozenset({OperatorState.RINGING, OperatorState.ON_CALL, OperatorState.WRAP_UP})
READY_STATES = BUSY_STATES | {OperatorState.AVAILABLE}


def period_hours(raw: str | None) -> int:
    """`?hours=`: one of the offered windows, else the default (a page never reads an unbounded window)."""
    return int(raw) if raw and raw.isdigit() and int(raw) in PERIODS_HOURS else DEFAULT_HOURS


def step_for(hours: int) -> int:
    """Bucket seconds: at most 96 points per chart."""
    return {1: 60, 6: 300, 24: 900}.get(hours, 3600)


@dataclass(frozen=True)
class _Row:
    dialed: dt.datetime | None
    answered: dt.datetime | None
    connected: dt.datetime | None
    ended: dt.datetime | None
    drop: bool
    live_answer: bool
    agent_live: bool
    agent_machine: bool


def _rows(campaign: Campaign, since: dt.datetime, until: dt.datetime) -> list[_Row]:
    qs = (Attempt.objects.filter(campaign=campaign, created_at__lte=until)
          .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=since))
          .order_by("-created_at")
          .values_list("dialed_at", "answered_at", "connected_at", "ended_at", "outcome", "disposition__kind")
          [:MAX_SERIES_ATTEMPTS])
    out = []
    for dialed, answered, connected, ended, outcome, kind in qs:
        machine = kind == DispositionKind.MACHINE
        out.append(_Row(dialed, answered, connected, ended, outcome == AttemptOutcome.ABANDONED,
                        answered is not None and outcome != AttemptOutcome.MACHINE,
                        connected is not None and not machine, connected is not None and machine))
    return out


def _presence(campaign: Campaign, since: dt.datetime, until: dt.datetime) -> list[list[tuple[dt.datetime, str]]]:
    """Per operator of the campaign's service: (from, state) steps over the span, from the operator log."""
    ops = list(Operator.objects.filter(memberships__service_id=campaign.service_id).values_list("pk", flat=True))
    steps: dict[int, list[tuple[dt.datetime, str]]] = {}
    for op in ops:
        before = OperatorEvent.objects.filter(operator_id=op, at__lt=since).order_by("-at", "-id").values_list(
            "to_state", flat=True).first()
        steps[op] = [(since, before or OperatorState.LOGGED_OUT)]
    for op, at, state in (OperatorEvent.objects.filter(operator_id__in=ops, at__gte=since, at__lte=until)
                          .order_by("at", "id").values_list("operator_id", "at", "to_state")[:MAX_SERIES_ATTEMPTS]):
        steps[op].append((at, state))
    return list(steps.values())


def _overlap(a0: dt.datetime, a1: dt.datetime, b0: dt.datetime, b1: dt.datetime) -> float:
    return max(0.0, (min(a1, b1) - max(a0, b0)).total_seconds())


def series(campaign: Campaign, end: dt.datetime, hours: int) -> dict:
    """The page's charts, per bucket: dials per connected call, the window's abandon rate at the bucket's end
    (the campaign's profile and formula), operators' busy share (ringing, talking or in wrap-up over ready
    time, from the operator log) and the campaign's peak channels."""
    step = step_for(hours)
    start = dt.datetime.fromtimestamp((int((end - dt.timedelta(hours=hours)).timestamp()) // step) * step, tz=dt.UTC)
    edges = []
    t = start
    while t < end:
        edges.append(t)
        t += dt.timedelta(seconds=step)
    tz = campaign.account.timezone
    lookback = min(compliance.window_start(campaign.profile, e, tz) for e in edges) if edges else start
    rows = _rows(campaign, min(lookback, start), end)
    answered = sorted((r for r in rows if r.answered), key=lambda r: r.answered)
    presence_steps = _presence(campaign, start, end)
    out = {"starts": edges, "dial_ratio": [], "abandon_pct": [], "busy_pct": [], "channels": []}
    for b0 in edges:
        b1 = min(b0 + dt.timedelta(seconds=step), end)
        dials = sum(1 for r in rows if r.dialed and b0 <= r.dialed < b1)
        connected = sum(1 for r in rows if r.connected and b0 <= r.connected < b1)
        out["dial_ratio"].append(round(dials / connected, 2) if connected else None)
        w0 = compliance.window_start(campaign.profile, b1, tz)
        c = [r for r in answered if w0 <= r.answered <= b1]
        abandoned, live = rate_of(campaign.profile, sum(r.drop for r in c), sum(r.live_answer for r in c),
                                  sum(r.agent_live for r in c), sum(r.agent_machine for r in c))
        out["abandon_pct"].append(round(100 * abandoned / live, 2) if live else None)
        busy = ready = 0.0
        for steps in presence_steps:
            for i, (s0, state) in enumerate(steps):
                s1 = steps[i + 1][0] if i + 1 < len(steps) else end
                span = _overlap(s0, s1, b0, b1)
                if state in READY_STATES:
                    ready += span
                    busy += span if state in BUSY_STATES else 0.0
        out["busy_pct"].append(round(100 * busy / ready, 1) if ready else None)
        out["channels"].append(_peak([(max(r.dialed, b0), min(r.ended or end, b1)) for r in rows
                                      if r.dialed and r.dialed < b1 and (r.ended or end) > b0]))
    out["step"] = step
    return out


def _peak(spans: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """The most spans open at once (a sweep over their starts and ends)."""
    marks = sorted([(s, 1) for s, _e in spans] + [(e, -1) for _s, e in spans], key=lambda m: (m[0], m[1]))
    peak = n = 0
    for _t, d in marks:
        n += d
        peak = max(peak, n)
    return peak


def figures(campaign: Campaign, at: dt.datetime) -> dict:
    """The page's live figures: calls in flight against the channel budget, the dial ratio now (calls in
    flight per ready operator), the answer rate of the last 24 h, the abandon rate in the 24 h and 30-day
    windows (the campaign's formula), operators' share busy now."""
    in_flight = Attempt.objects.open().filter(campaign=campaign).count()
    states = list(Operator.objects.filter(memberships__service_id=campaign.service_id, is_active=True)
                  .values_list("state", flat=True))
    ready = sum(1 for s in states if s in READY_STATES)
    busy = sum(1 for s in states if s in BUSY_STATES)
    day = Attempt.objects.filter(campaign=campaign, dialed_at__gte=at - dt.timedelta(hours=24))
    dials = day.count()
    lives = day.filter(answered_at__isnull=False).exclude(outcome=AttemptOutcome.MACHINE).count()
    windows = {}
    for key, start in (("day", compliance.window_start(RegulatoryProfile.UK, at, campaign.account.timezone)),
                       ("month", at - dt.timedelta(days=30))):
        c = _counts(Attempt.objects.filter(campaign=campaign, answered_at__gte=start, answered_at__lte=at))
        abandoned, live = rate_of(campaign.profile, c["drops"], c["live_answers"], c["agent_live"],
                                  c["agent_machines"])
        windows[key] = round(100 * abandoned / live, 2) if live else None
    return {"in_flight": in_flight, "budget": channel_budget(campaign), "ready": ready,
            "dial_ratio": round(in_flight / ready, 2) if ready else None,
            "answer_pct": round(100 * lives / dials, 1) if dials else None, "dials_24h": dials,
            "abandon_day_pct": windows["day"], "abandon_month_pct": windows["month"],
            "busy_pct": round(100 * busy / ready, 1) if ready else None,
            "target_pct": round(100 * campaign.abandon_target, 2)}
