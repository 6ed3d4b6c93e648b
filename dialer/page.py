"""The campaign page (admin, for the supervisor of the campaign's account): progress of each list, the live
figures, four charts (dial ratio, abandon rate against the target over the window, busy share, channels
against the budget) drawn with Chart.js served by the project, pause and resume.

As on the usage page, everything the charts need goes to the page as JSON (`json_script`): numbers are never
formatted by the active locale on their way into JavaScript; time labels are formatted here, in the
account's time zone and the reader's language.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.clock import now

from . import imports, stats
from .choices import CampaignState
from .models import Campaign


def chart_data(campaign: Campaign, doc: dict[str, Any], zone: zoneinfo.ZoneInfo) -> dict[str, Any]:
    starts = [t.astimezone(zone) for t in doc["starts"]]
    tick = "H:i" if doc["step"] < 3600 else "D j, H:i"
    budget = stats.channel_budget(campaign)
    return {
        "labels": [formats.date_format(t, tick) for t in starts],
        "tooltips": [formats.date_format(t, "DATETIME_FORMAT") for t in starts],
        "dial_ratio": doc["dial_ratio"], "abandon_pct": doc["abandon_pct"], "busy_pct": doc["busy_pct"],
        "channels": doc["channels"], "budget": budget, "target_pct": round(100 * campaign.abandon_target, 2),
        "text": {
            "x": _("Time (%(zone)s)") % {"zone": str(zone)},
            "dial_ratio": _("Dials per connected call"), "dial_ratio_y": _("dials per connected call"),
            "abandon": _("Abandon rate of the window (%)"), "abandon_y": _("% of live calls"),
            "target": _("Target (%(pct)s %%)") % {"pct": formats.number_format(100 * campaign.abandon_target, 1)},
            "busy": _("Operators busy (%)"), "busy_y": _("% of ready time"),
            "channels": _("Most channels held"), "channels_y": _("channels"),
            "budget": _("Channel budget (%(n)d)") % {"n": budget},
        },
    }


def campaign_page(request: HttpRequest, campaign: Campaign, admin_context: dict[str, Any]) -> HttpResponse:
    hours = stats.period_hours(request.GET.get("hours"))
    at = now()
    zone = zoneinfo.ZoneInfo(campaign.account.timezone)
    lists = []
    for lead_list in campaign.lead_lists.order_by("name")[:50]:
        p = imports.progress(lead_list)
        lists.append({"name": lead_list.name, "pk": lead_list.pk, **p,
                      "pct": round(100 * p["done"] / p["total"]) if p["total"] else 0})
    context = {
        **admin_context, "title": _("Campaign %(name)s") % {"name": campaign.name}, "campaign": campaign,
        "lists": lists, "figures": stats.figures(campaign, at), "hours": hours, "periods": stats.PERIODS_HOURS,
        "chart": chart_data(campaign, stats.series(campaign, at, hours), zone), "zone": str(zone),
        "period_label": ngettext("Last %(n)d hour", "Last %(n)d hours", hours) % {"n": hours},
        "can_pause": campaign.state == CampaignState.RUNNING,
        "can_resume": campaign.state in (CampaignState.PAUSED, CampaignState.DRAFT),
        "running": CampaignState.RUNNING, "paused": CampaignState.PAUSED,
    }
    return TemplateResponse(request, "admin/dialer/campaign_page.html", context)
