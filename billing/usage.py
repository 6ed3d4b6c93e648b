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

from accounts.models import Account
from acd.clockutil import start_of_day
from acd.models import Call
from budget.models import LimitRefusal

from .erlang import agents_for_service_level, channels_for_blocking
from .minutes import billable_seconds

SAMPLE_SECONDS = 300


def _intervals(account: Account, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    return list(Call.objects.filter(account=account, arrived_at__lt=end).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=start)).exclude(end_cause="REACH_PLAN_LIMIT")
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
        alerts.append(f"{refusals} calls were refused with REACH_PLAN_LIMIT in this period.")
    if channels > limit:
        alerts.append(f"The busiest hour needs {channels} channels; the plan gives {limit}.")
    elif channels >= 0.8 * limit and limit:
        alerts.append(f"The busiest hour uses {channels} of {limit} channels (80% or more).")
    return {
        "busiest_hour": busiest.isoformat() if busiest else None,
        "traffic_erlangs": traffic,
        "channels_needed": channels,
        "blocking_target": blocking,
        "operators_needed": operators,
        "service_level_target": {"share": service_level, "within_seconds": within_seconds},
        "average_handle_seconds": round(handle, 1),
        "channel_limit": limit,
        "advice": (f"In the busiest hour the account carried {traffic} Erlangs. For at most "
                   f"{blocking:.0%} of calls refused it needs {channels} concurrent calls (Erlang B); to answer "
                   f"{service_level:.0%} of calls within {within_seconds:.0f} s it needs {operators} operators "
                   f"(Erlang C). Rule of thumb: peaks of 5 to 7 simultaneous calls need at least 8 channels."),
        "alerts": alerts,
    }
