"""The usage and capacity page (admin, per account): concurrent calls against the limit, refusals, minutes,
capacity advice. The same numbers as the usage and capacity API, drawn with Chart.js (served by the project).

Everything the chart needs goes to the page as JSON (`json_script`): numbers are never formatted by the
active locale on their way into markup or JavaScript (an Italian decimal comma broke the old SVG). Time
labels are formatted here, in the account's time zone and the reader's language.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Account
from core.clock import now

from .usage import SAMPLE_SECONDS, capacity, usage

PERIODS = (1, 7, 30, 90)  # days offered; another value is read as the nearest allowed one
DEFAULT_DAYS = 30


def period_days(raw: str | None) -> int:
    """The period asked for in `?days=`, bounded to 1–90; anything that is not a plain number is the default."""
    if not raw or not raw.isdigit() or len(raw) > 4:
        return DEFAULT_DAYS
    return max(1, min(int(raw), PERIODS[-1]))


def step_for(days: int) -> int:
    """5-minute samples for a day, hourly ones beyond (a month is 720 bars, not 8,640 hairlines)."""
    return SAMPLE_SECONDS if days <= 1 else 3600


def chart_data(doc: dict[str, Any], zone: zoneinfo.ZoneInfo, step: int) -> dict[str, Any]:
    """The chart's series and labels: plain numbers and strings, JSON-encoded by the template."""
    starts = [dt.datetime.fromisoformat(s["start"]).astimezone(zone) for s in doc["samples"]]
    tick = "H:i" if step < 3600 else "D j, H:i"
    return {
        "labels": [formats.date_format(t, tick) for t in starts],
        "tooltips": [formats.date_format(t, "DATETIME_FORMAT") for t in starts],
        "max": [s["max_concurrent"] for s in doc["samples"]],
        "avg": [s["avg_concurrent"] for s in doc["samples"]],
        "refusals": [s["refusals"] for s in doc["samples"]],
        "limit": doc["limit"],
        "empty": not any(s["max_concurrent"] or s["refusals"] for s in doc["samples"]),
        "text": {
            "most": _("Most concurrent calls"), "average": _("Average concurrent calls"),
            "limit": _("Plan limit (%(n)d)") % {"n": doc["limit"]}, "refused": _("Calls refused"),
            "limit_above": _("Plan limit (%(n)d, above this scale)") % {"n": doc["limit"]},
            "y": _("Concurrent calls"),
            "x": _("Time (%(zone)s)") % {"zone": str(zone)},
        },
    }


def advisor(cap: dict[str, Any], zone: zoneinfo.ZoneInfo) -> list[str]:
    """The advisor's findings as sentences, each with what it is based on."""
    if not cap["enough_traffic"]:
        return [cap["advice"]]
    hour = dt.datetime.fromisoformat(cap["busiest_hour"]).astimezone(zone)
    handle = round(cap["average_handle_seconds"])
    return [
        _("Busiest hour: %(hour)s, with %(erlangs)s Erlangs of traffic (the average number of calls in progress "
          "during that hour).") % {"hour": formats.date_format(hour, "DATETIME_FORMAT"),
                                  "erlangs": formats.number_format(cap["traffic_erlangs"], 2)},
        ngettext("Channels: %(n)d needed so that at most %(blocking)s of calls are refused (Erlang B); the plan "
                 "gives %(limit)d.",
                 "Channels: %(n)d needed so that at most %(blocking)s of calls are refused (Erlang B); the plan "
                 "gives %(limit)d.", cap["channels_needed"]) % {
            "n": cap["channels_needed"], "blocking": f"{cap['blocking_target']:.0%}", "limit": cap["channel_limit"]},
        ngettext("Operators: %(n)d to answer %(share)s of calls within %(within)d s (Erlang C), with an average "
                 "handle time of %(handle)s.",
                 "Operators: %(n)d to answer %(share)s of calls within %(within)d s (Erlang C), with an average "
                 "handle time of %(handle)s.", cap["operators_needed"]) % {
            "n": cap["operators_needed"], "share": f"{cap['service_level_target']['share']:.0%}",
            "within": cap["service_level_target"]["within_seconds"],
            "handle": f"{handle // 60}:{handle % 60:02d}"},
        _("Rule of thumb: peaks of 5 to 7 simultaneous calls need at least 8 channels."),
    ]


def usage_dashboard(request: HttpRequest, account: Account, admin_context: dict[str, Any]) -> HttpResponse:
    days = period_days(request.GET.get("days"))
    step = step_for(days)
    at = now()
    # Buckets start on the step (whole 5 minutes or hours), so the time labels read as round times.
    start = dt.datetime.fromtimestamp((int((at - dt.timedelta(days=days)).timestamp()) // step) * step, tz=dt.UTC)
    zone = zoneinfo.ZoneInfo(account.timezone)
    doc = usage(account, start, at, at, step=step)
    cap = capacity(account, start, at)
    refusals_per_day = [(formats.date_format(dt.date.fromisoformat(day), "DATE_FORMAT"), n)
                        for day, n in doc["refusals_per_day"].items()]
    context = {
        **admin_context, "title": _("%(account)s: usage and capacity") % {"account": account.name},
        "account": account, "doc": doc, "chart": chart_data(doc, zone, step), "capacity": cap,
        "advisor": advisor(cap, zone), "days": days, "periods": PERIODS, "refusals_per_day": refusals_per_day,
        "period_label": ngettext("Last %(n)d day", "Last %(n)d days", days) % {"n": days},
        "sample_label": _("5-minute samples") if step < 3600 else _("hourly samples"),
        "zone": str(zone),
    }
    return TemplateResponse(request, "admin/billing/usage.html", context)
