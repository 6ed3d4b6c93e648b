"""Usage and capacity, from the account's own call records (the one source of truth).

- `usage()`: 5-minute samples of the most and the average concurrent calls, with the limit, the
  REACH_PLAN_LIMIT refusals per interval and per day, and the month's billable minutes against the
  included ones (domain.md, seed 000: users need to see how often they hit the limit).
- `capacity()`: the busiest hour's traffic in Erlangs, the channels for a blocking target (Erlang B), the
  operators for a service level (Erlang C), beside the rule of thumb of domain.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import Any

from django.db.models import Avg, Q
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Account
from acd.choices import HangupCause
from acd.clockutil import start_of_day
from acd.models import Call
from budget.models import LimitRefusal

from .erlang import agents_for_service_level, channels_for_blocking
from .minutes import billable_seconds

SAMPLE_SECONDS = 300
# Below this many calls in the period the Erlang figures say little: the advisor says so instead.
MIN_CALLS_FOR_ADVICE = 3


def _intervals(account: Account, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    return list(Call.objects.filter(account=account, arrived_at__lt=end).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=start)).exclude(end_cause=HangupCause.REACH_PLAN_LIMIT)
        .values_list("arrived_at", "ended_at"))


def _samples(spans: list[tuple[dt.datetime, dt.datetime]], start: dt.datetime, end: dt.datetime,
             step: int) -> list[tuple[int, float]]:
    """(most, average) concurrent calls per bucket, in one sweep over the calls' start and end points."""
    n = max(1, math.ceil((end - start).total_seconds() / step))
    busy = [0.0] * n
    peak = [0] * n
    points = []
    for a, e in spans:
        a, e = max(a, start), min(e, end)
        if e <= a:
            continue
        points += [(a, 1), (e, -1)]
        first, last = int((a - start).total_seconds() // step), int(((e - start).total_seconds() - 1e-9) // step)
        for b in range(first, min(last, n - 1) + 1):
            lo = max(a, start + dt.timedelta(seconds=b * step))
            hi = min(e, start + dt.timedelta(seconds=(b + 1) * step))
            busy[b] += (hi - lo).total_seconds()
    pts = sorted(points, key=lambda p: (p[0], p[1]))  # at one instant, ends before starts
    live = i = 0
    for b in range(n):
        bucket_start = start + dt.timedelta(seconds=b * step)
        bucket_end = bucket_start + dt.timedelta(seconds=step)
        while i < len(pts) and pts[i][0] <= bucket_start:  # the calls live as the bucket opens
            live += pts[i][1]
            i += 1
        peak[b] = live
        while i < len(pts) and pts[i][0] < bucket_end:
            live += pts[i][1]
            peak[b] = max(peak[b], live)
            i += 1
    widths = [min(step, (end - start).total_seconds() - b * step) for b in range(n)]
    return [(peak[b], round(busy[b] / widths[b], 3)) for b in range(n)]


def usage(account: Account, start: dt.datetime, end: dt.datetime, at: dt.datetime,
          step: int = SAMPLE_SECONDS) -> dict[str, Any]:
    spans = [(a, e or at) for a, e in _intervals(account, start, end)]
    refusal_times = list(LimitRefusal.objects.filter(account=account, at__gte=start, at__lt=end)
                         .values_list("at", flat=True))
    per_bucket = Counter(int((when - start).total_seconds() // step) for when in refusal_times)
    per_day = Counter(start_of_day(when, account.timezone).date().isoformat() for when in refusal_times)
    samples = [{"start": (start + dt.timedelta(seconds=i * step)).isoformat(), "max_concurrent": most,
                "avg_concurrent": avg, "refusals": per_bucket.get(i, 0)}
               for i, (most, avg) in enumerate(_samples(spans, start, end, step))]
    plan = account.plan
    month_start = start_of_day(at, account.timezone).replace(day=1)
    billed = sum(billable_seconds(t or 0, plan.billing_first_seconds, plan.billing_step_seconds)
                 for t in Call.objects.filter(account=account, answered_at__gte=month_start)
                 .values_list("talk_seconds", flat=True))
    return {"start": start.isoformat(), "end": end.isoformat(), "interval_seconds": step,
            "limit": account.channel_limit, "samples": samples, "refusals_per_day": dict(sorted(per_day.items())),
            "refusals": len(refusal_times),
            "minutes": {"month": month_start.date().isoformat(), "used": round(billed / 60, 1),
                        "billed_seconds": billed,
                        "included": plan.included_minutes}}


def capacity(account: Account, start: dt.datetime, end: dt.datetime, *, blocking: float = 0.01,
             service_level: float = 0.8, within_seconds: float = 20) -> dict[str, Any]:
    spans = _intervals(account, start, end)
    per_hour: Counter[dt.datetime] = Counter()
    for a, e in spans:  # busy seconds that fall in each clock hour
        e = e or end
        t = a
        while t < e:
            hour = t.replace(minute=0, second=0, microsecond=0)
            nxt = min(e, hour + dt.timedelta(hours=1))
            per_hour[hour] += (nxt - t).total_seconds()
            t = nxt
    busiest, busy = max(per_hour.items(), key=lambda kv: kv[1]) if per_hour else (None, 0.0)
    traffic = round(busy / 3600, 3)
    answered = Call.objects.filter(account=account, answered_at__gte=start, answered_at__lt=end)
    handle = answered.aggregate(h=Avg("talk_seconds"))["h"] or 180.0
    channels = channels_for_blocking(traffic, blocking) if traffic > 0 else 0
    talk_traffic = traffic  # a conservative bound: every held channel as operator work
    operators = agents_for_service_level(talk_traffic, handle, service_level, within_seconds) if traffic > 0 else 0
    limit = account.channel_limit
    refusals = LimitRefusal.objects.filter(account=account, at__gte=start, at__lt=end).count()
    alerts = []
    if refusals:
        alerts.append(ngettext("%(n)d call was refused with REACH_PLAN_LIMIT in this period.",
                               "%(n)d calls were refused with REACH_PLAN_LIMIT in this period.", refusals)
                      % {"n": refusals})
    if channels > limit:
        alerts.append(ngettext("The busiest hour needs %(n)d channel; the plan gives %(limit)d.",
                               "The busiest hour needs %(n)d channels; the plan gives %(limit)d.", channels)
                      % {"n": channels, "limit": limit})
    elif channels >= 0.8 * limit and limit:
        alerts.append(_("The busiest hour uses %(n)d of %(limit)d channels (80%% or more).")
                      % {"n": channels, "limit": limit})
    enough = traffic > 0 and len(spans) >= MIN_CALLS_FOR_ADVICE
    return {
        "busiest_hour": busiest.isoformat() if busiest else None,
        "traffic_erlangs": traffic,
        "calls": len(spans),
        "enough_traffic": enough,
        "channels_needed": channels,
        "blocking_target": blocking,
        "operators_needed": operators,
        "service_level_target": {"share": service_level, "within_seconds": within_seconds},
        "average_handle_seconds": round(handle, 1),
        "channel_limit": limit,
        "advice": _advice(enough, len(spans), traffic, channels, operators, blocking, service_level, within_seconds),
        "alerts": alerts,
    }


def _advice(enough: bool, calls: int, traffic: float, channels: int, operators: int, blocking: float,
            service_level: float, within_seconds: float) -> str:
    """The advisor in words (the active language): what it measured, what it concludes, and why; with too
    few calls it says so instead of advising zero channels and operators."""
    if not enough:
        return ngettext(
            "Not enough traffic yet: %(calls)d call in this period. The advisor needs at least %(min)d calls to "
            "estimate the channels and operators the busiest hour needs.",
            "Not enough traffic yet: %(calls)d calls in this period. The advisor needs at least %(min)d calls to "
            "estimate the channels and operators the busiest hour needs.", calls) % {
            "calls": calls, "min": MIN_CALLS_FOR_ADVICE}
    erlangs = formats.number_format(traffic, 2)
    parts = [
        _("In the busiest hour the account carried %(erlangs)s Erlangs (on average %(erlangs)s calls in progress "
          "at once).") % {"erlangs": erlangs},
        ngettext("So that at most %(blocking)s of calls are refused it needs %(n)d concurrent call (Erlang B).",
                 "So that at most %(blocking)s of calls are refused it needs %(n)d concurrent calls (Erlang B).",
                 channels) % {"blocking": f"{blocking:.0%}", "n": channels},
        ngettext("To answer %(share)s of calls within %(within)d s it needs %(n)d operator (Erlang C).",
                 "To answer %(share)s of calls within %(within)d s it needs %(n)d operators (Erlang C).",
                 operators) % {"share": f"{service_level:.0%}", "within": within_seconds, "n": operators},
        _("Rule of thumb: peaks of 5 to 7 simultaneous calls need at least 8 channels."),
    ]
    return " ".join(parts)
