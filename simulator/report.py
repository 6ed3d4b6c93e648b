"""The simulation report: the ACD statistics per service and operator, peak concurrency, rejections."""

from __future__ import annotations

import datetime as dt
from typing import Any

from acd.choices import Outcome
from acd.models import Call
from acd.stats import operator_stats, peak_concurrency, service_stats
from routing.models import Service


def build_report(account_id: int, start: dt.datetime, end: dt.datetime, run: dict[str, Any],
                 *, scenario: str, seed: int) -> dict[str, Any]:
    horizon = end + dt.timedelta(hours=4)
    services = [service_stats(s, start, horizon, end) for s in Service.objects.filter(account_id=account_id)
                .select_related("account").order_by("name")]
    calls = Call.objects.filter(account_id=account_id)
    rejected = list(calls.filter(outcome=Outcome.REJECTED).values_list("end_cause", flat=True))
    return {
        "scenario": scenario,
        "seed": seed,
        "run": run,
        "totals": {
            "calls": calls.count(),
            "answered": calls.filter(answered_at__isnull=False).count(),
            "abandoned": calls.filter(outcome=Outcome.ABANDONED).count(),
            "rejected": len(rejected),
            "rejected_by_cause": {cause: rejected.count(cause) for cause in sorted(set(rejected))},
            "peak_concurrent_calls": peak_concurrency(account_id, start, horizon),
        },
        "services": services,
        "operators": operator_stats(account_id, start, horizon),
    }
