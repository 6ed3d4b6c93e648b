"""Statistics per service and per operator, over any window: rebuilt from call records and the logs.

Service level is given in both usual definitions (T per service, default 20 s):
- `service_level`: answered within T ÷ answered;
- `service_level_with_abandons`: (answered within T + abandoned within T) ÷ (answered + abandoned).
Occupancy = handle time ÷ (handle time + idle time), from the operator state log.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Avg, Count, Min, OuterRef, Q, Subquery, Sum

from agents.choices import OperatorState
from agents.models import Operator, OperatorEvent
from routing.models import Service

from .choices import CallState, OfferState, Outcome
from .models import Call, Offer

HANDLE_STATES = {OperatorState.RINGING, OperatorState.ON_CALL, OperatorState.WRAP_UP}
IDLE_STATES = {OperatorState.AVAILABLE}


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def service_stats(service: Service, start: dt.datetime, end: dt.datetime, at: dt.datetime) -> dict[str, Any]:
    t = service.service_level_seconds
    calls = Call.objects.filter(service=service, arrived_at__gte=start, arrived_at__lt=end).exclude(
        outcome__in=[Outcome.REJECTED, Outcome.CLOSED])
    agg = calls.aggregate(
        offered=Count("id"),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
        answered_in_t=Count("id", filter=Q(answered_at__isnull=False, wait_seconds__lte=t)),
        abandoned=Count("id", filter=Q(outcome=Outcome.ABANDONED)),
        abandoned_in_t=Count("id", filter=Q(outcome=Outcome.ABANDONED, wait_seconds__lte=t)),
        overflow_busy=Count("id", filter=Q(outcome=Outcome.BUSY)),
        voicemail=Count("id", filter=Q(outcome=Outcome.VOICEMAIL)),
        redirected=Count("id", filter=Q(outcome=Outcome.REDIRECTED)),
        asa=Avg("wait_seconds", filter=Q(answered_at__isnull=False)),
        talk=Avg("talk_seconds", filter=Q(talk_seconds__isnull=False)),
        talk_total=Sum("talk_seconds"),
    )
    waiting = Call.objects.filter(service=service, state__in=[CallState.QUEUED, CallState.RINGING]).aggregate(
        n=Count("id"), first=Min("queued_at"))
    first_queued = waiting["first"]
    aht = (agg["talk"] + service.wrapup_seconds) if agg["talk"] is not None else None
    return {
        "service": service.name,
        "service_id": service.pk,
        "offered": agg["offered"],
        "answered": agg["answered"],
        "abandoned": agg["abandoned"],
        "overflow": {"busy": agg["overflow_busy"], "voicemail": agg["voicemail"], "redirected": agg["redirected"]},
        "service_level": _ratio(agg["answered_in_t"], agg["answered"]),
        "service_level_with_abandons": _ratio(agg["answered_in_t"] + agg["abandoned_in_t"],
                                              agg["answered"] + agg["abandoned"]),
        "service_level_seconds": t,
        "asa_seconds": round(agg["asa"], 1) if agg["asa"] is not None else None,
        "aht_seconds": round(aht, 1) if aht is not None else None,
        "talk_minutes": round((agg["talk_total"] or 0) / 60, 1),
        "waiting_now": waiting["n"],
        "longest_wait_seconds": round((at - first_queued).total_seconds(), 1) if first_queued else 0,
    }


def _state_seconds(operator_ids: list[int], start: dt.datetime, end: dt.datetime) -> dict[int, dict[str, float]]:
    """Seconds each operator spent in each state within [start, end), replayed from the state log."""
    totals: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    last_before = OperatorEvent.objects.filter(operator_id=OuterRef("pk"), at__lt=start).order_by("-at", "-id")
    before = dict(Operator.objects.filter(pk__in=operator_ids).annotate(
        state_then=Subquery(last_before.values("to_state")[:1])).values_list("pk", "state_then"))
    current = {op_id: (before.get(op_id) or OperatorState.LOGGED_OUT, start) for op_id in operator_ids}
    for op_id, at, to_state in (OperatorEvent.objects.filter(operator_id__in=operator_ids, at__gte=start,
                                                             at__lt=end)
                                .order_by("at", "id").values_list("operator_id", "at", "to_state")):
        state, since = current[op_id]
        totals[op_id][state] += (at - since).total_seconds()
        current[op_id] = (to_state, at)
    for op_id, (state, since) in current.items():
        totals[op_id][state] += max(0.0, (end - since).total_seconds())
    return totals


def operator_stats(account_id: int, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    ops = list(Operator.objects.filter(account_id=account_id).order_by("name").values("id", "name", "login",
                                                                                        "state"))
    ids = [o["id"] for o in ops]
    offers = {row["operator_id"]: row for row in Offer.objects.filter(
        operator_id__in=ids, created_at__gte=start, created_at__lt=end).values("operator_id").annotate(
        offered=Count("id"), answered=Count("id", filter=Q(state=OfferState.ANSWERED)),
        no_answer=Count("id", filter=Q(state__in=[OfferState.NO_ANSWER, OfferState.EXPIRED])))}
    talk = {row["operator_id"]: row for row in Call.objects.filter(
        operator_id__in=ids, answered_at__gte=start, answered_at__lt=end).values("operator_id").annotate(
        calls=Count("id"), talk=Sum("talk_seconds"))}
    seconds = _state_seconds(ids, start, end)
    result = []
    for op in ops:
        o, t, s = offers.get(op["id"], {}), talk.get(op["id"], {}), seconds.get(op["id"], {})
        handle = sum(s.get(x, 0.0) for x in HANDLE_STATES)
        idle = sum(s.get(x, 0.0) for x in IDLE_STATES)
        result.append({
            "operator": op["name"], "login": op["login"], "operator_id": op["id"], "state": op["state"],
            "offered": o.get("offered", 0), "answered": o.get("answered", 0), "no_answer": o.get("no_answer", 0),
            "calls": t.get("calls", 0), "talk_minutes": round((t.get("talk") or 0) / 60, 1),
            "occupancy": _ratio(handle, handle + idle),
            "paused_minutes": round(s.get(OperatorState.PAUSED, 0.0) / 60, 1),
        })
    return result


def peak_concurrency(account_id: int, start: dt.datetime, end: dt.datetime) -> int:
    """The most calls the account was handling at one instant (every live call counts)."""
    moments = []
    for arrived, ended in Call.objects.filter(account_id=account_id, arrived_at__lt=end).filter(
            Q(ended_at__isnull=True) | Q(ended_at__gte=start)).values_list("arrived_at", "ended_at"):
        moments.append((arrived, 1))
        if ended is not None:
            moments.append((ended, -1))
    live = peak = 0
    for _, step in sorted(moments, key=lambda m: (m[0], m[1])):
        live += step
        peak = max(peak, live)
    return peak
