"""Period boundaries in an account's own time zone (\"today\" in Rome is not \"today\" in UTC)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from routing.choices import MinutesPeriod


def start_of_day(moment: dt.datetime, tz_name: str) -> dt.datetime:
    local = moment.astimezone(zoneinfo.ZoneInfo(tz_name))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def period_start(moment: dt.datetime, tz_name: str, period: str) -> dt.datetime:
    day = start_of_day(moment, tz_name)
    if period == MinutesPeriod.LAST_7_DAYS:
        return day - dt.timedelta(days=6)
    if period == MinutesPeriod.THIS_MONTH:
        return day.replace(day=1)
    return day
