"""Is a service open at a given moment? Weekly hours plus holidays, in the account's time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from .models import Holiday, OpeningHours, Service


def is_open(service: Service, at: dt.datetime) -> bool:
    hours = list(OpeningHours.objects.filter(service=service).values_list("weekday", "opens", "closes"))
    local = at.astimezone(zoneinfo.ZoneInfo(service.account.timezone))
    if Holiday.objects.filter(service=service, date=local.date()).exists():
        return False
    if not hours:
        return True
    now_time = local.time()
    return any(day == local.weekday() and opens <= now_time < closes for day, opens, closes in hours)
