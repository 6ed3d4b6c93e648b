"""The usage dashboard (admin, per account): concurrent calls against the limit, refusals, minutes,
capacity advice. The same numbers as the usage and capacity API, drawn as an SVG chart."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts.models import Account
from core.clock import now

from .usage import capacity, usage

CHART_W, CHART_H = 900, 220
MAX_DAYS = 90


def chart(doc: dict[str, Any]) -> dict[str, Any]:
    """Polyline points for the most and the average concurrent calls, and the y of the limit line."""
    samples = doc["samples"]
    top = max([doc["limit"], *[s["max_concurrent"] for s in samples]]) or 1
    n = max(1, len(samples) - 1)

    def y(v: float) -> float:
        return round(CHART_H - v / top * (CHART_H - 10), 1)

    def line(key: str) -> str:
        return " ".join(f"{round(i / n * CHART_W, 1)},{y(s[key])}" for i, s in enumerate(samples))

    return {"width": CHART_W, "height": CHART_H, "max_points": line("max_concurrent"),
            "avg_points": line("avg_concurrent"), "limit_y": y(doc["limit"]), "top": top}


def usage_dashboard(request: HttpRequest, account: Account, admin_context: dict[str, Any]) -> HttpResponse:
    raw = request.GET.get("days", "")
    days = max(1, min(int(raw), MAX_DAYS)) if raw.isdigit() and len(raw) <= 4 else 30  # anything else: 30
    at = now()
    start = at - dt.timedelta(days=days)
    doc = usage(account, start, at, at)
    context = {**admin_context, "title": f"{account.name}: usage", "account": account, "doc": doc,
               "chart": chart(doc), "capacity": capacity(account, start, at), "days": days}
    return TemplateResponse(request, "admin/billing/usage.html", context)
