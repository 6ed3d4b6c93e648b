"""The rules a dial must obey (dialer-reference.md): calling hours in the lead's local time, repeat-call
rules, retry delays per outcome, the abandon-rate windows and Ofcom's machine-share formula."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as pn_timezone

from .choices import AttemptOutcome, RegulatoryProfile

UK_ABANDON_QUIET = dt.timedelta(hours=72)  # Ofcom: no new call to an abandoned number for 72 h
UK_MACHINE_QUIET = dt.timedelta(hours=24)  # nor to a number found to be a machine in the same 24 h


def number_timezone(phone: str, fallback: str) -> str:
    """The time zone of a number, from phonenumbers' geographic data; the fallback (the account's) when the
    number's region spans several zones it cannot tell apart, or none is known."""
    try:
        zones = pn_timezone.time_zones_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return fallback
    zones = [z for z in zones if z != pn_timezone.UNKNOWN_TIMEZONE]
    if len(zones) != 1:
        return fallback
    try:
        ZoneInfo(zones[0])
    except ZoneInfoNotFoundError:
        return fallback
    return zones[0]


def within_hours(hours: dict[int, tuple[dt.time, dt.time]], tz: str, at: dt.datetime) -> bool:
    """Is `at` (aware) inside the calling hours of that weekday, in the lead's local time (DST included:
    the wall clock of the zone at that instant)?"""
    local = at.astimezone(ZoneInfo(tz))
    span = hours.get(local.weekday())
    return span is not None and span[0] <= local.time().replace(tzinfo=None) < span[1]


def next_opening(hours: dict[int, tuple[dt.time, dt.time]], tz: str, at: dt.datetime) -> dt.datetime | None:
    """The first instant at or after `at` inside the calling hours, in the lead's zone (None: no hours)."""
    if within_hours(hours, tz, at):
        return at
    zone = ZoneInfo(tz)
    local = at.astimezone(zone)
    for days in range(8):
        day = (local + dt.timedelta(days=days)).date()
        span = hours.get(day.weekday())
        if span is None:
            continue
        start = dt.datetime.combine(day, span[0], tzinfo=zone)
        if start >= at:
            return start.astimezone(dt.UTC)
    return None


def retry_delay(campaign, outcome: str) -> dt.timedelta | None:
    """How long before the next attempt after this outcome (None: the lead is done)."""
    minutes = {
        AttemptOutcome.BUSY: campaign.retry_busy_minutes,
        AttemptOutcome.NO_ANSWER: campaign.retry_no_answer_minutes,
        AttemptOutcome.MACHINE: campaign.retry_machine_minutes,
        AttemptOutcome.ABANDONED: campaign.retry_abandoned_minutes,
        AttemptOutcome.REFUSED: 1,   # not placed (channel limit): soon, it was never dialled
        AttemptOutcome.FAILED: campaign.retry_no_answer_minutes,
    }.get(outcome)
    if minutes is None:
        return None
    delay = dt.timedelta(minutes=minutes)
    if campaign.profile == RegulatoryProfile.UK:
        if outcome == AttemptOutcome.ABANDONED:
            delay = max(delay, UK_ABANDON_QUIET)
        elif outcome == AttemptOutcome.MACHINE:
            delay = max(delay, UK_MACHINE_QUIET)
    return delay


def repeat_call_allowed(profile: str, abandoned_at: dt.datetime | None, machine_at: dt.datetime | None,
                        at: dt.datetime) -> bool:
    """Ofcom's repeat-call rules, checked at dial time (not only when the retry was scheduled)."""
    if profile != RegulatoryProfile.UK:
        return True
    if abandoned_at is not None and at - abandoned_at < UK_ABANDON_QUIET:
        return False
    return not (machine_at is not None and at - machine_at < UK_MACHINE_QUIET)


def window_start(profile: str, at: dt.datetime, tz: str) -> dt.datetime:
    """Where the abandon-rate window that contains `at` begins: UK, the day from midnight (the account's
    zone); US, the 30 days before."""
    if profile == RegulatoryProfile.UK:
        local = at.astimezone(ZoneInfo(tz))
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)
    return at - dt.timedelta(days=30)


def window_hours(profile: str) -> float:
    return 24.0 if profile == RegulatoryProfile.UK else 30 * 24.0


def ofcom_abandon_rate(drops: int, agent_live: int, agent_machines: int) -> float:
    """Ofcom 2015: ACR = (drops − drops × AM) / (agent-handled live + drops − drops × AM), with
    AM = agent-coded machines / (agent-coded live + agent-coded machines). An estimate of AMD false
    positives counts as abandoned (the drops stand for machine-flagged calls too)."""
    coded = agent_live + agent_machines
    am_share = agent_machines / coded if coded else 0.0
    live_drops = drops - drops * am_share
    denominator = agent_live + live_drops
    return live_drops / denominator if denominator else 0.0


def us_abandon_rate(abandoned: int, live: int) -> float:
    """FTC TSR: abandoned calls over calls answered by a live person."""
    return abandoned / live if live else 0.0
