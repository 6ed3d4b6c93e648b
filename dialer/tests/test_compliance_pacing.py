"""The rules and the pacing policy as pure functions: Ofcom's formula, calling hours across time zones and a
DST change, retry delays per outcome and profile, the pacing policy's fallback and bounds."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import translation

from dialer import compliance, pacing
from dialer.choices import AttemptOutcome, CampaignState, RefusalReason, RegulatoryProfile
from dialer.models import parse_hours

UTC = dt.UTC
HOURS = parse_hours({d: ["09:00", "20:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat")})


def test_ofcom_formula_on_the_worked_example():
    # dialer-reference.md: 29 drops, 9 live, 7 machines -> 64.44 %
    assert round(100 * compliance.ofcom_abandon_rate(29, 9, 7), 2) == 64.44
    assert compliance.ofcom_abandon_rate(0, 10, 0) == 0.0
    # no agent-coded calls at all: every drop counts
    assert compliance.ofcom_abandon_rate(3, 0, 0) == 1.0
    assert compliance.us_abandon_rate(3, 100) == 0.03


def test_number_time_zones_from_phonenumbers_and_the_fallback():
    assert compliance.number_timezone("+12125550123", "Europe/Rome") == "America/New_York"
    assert compliance.number_timezone("+390612345678", "UTC") == "Europe/Rome"
    assert compliance.number_timezone("+442079460000", "UTC") == "Europe/London"
    assert compliance.number_timezone("not a number", "Europe/Rome") == "Europe/Rome"


def test_calling_hours_are_the_leads_local_time_across_zones():
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday: 10:00 in Rome, 04:00 in New York
    assert compliance.within_hours(HOURS, "Europe/Rome", at)
    assert not compliance.within_hours(HOURS, "America/New_York", at)
    assert compliance.next_opening(HOURS, "America/New_York", at) == dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    # Sunday is not a calling day: Saturday 21:00 in Rome opens on Monday 09:00
    sat = dt.datetime(2026, 3, 7, 20, 0, tzinfo=UTC)
    assert compliance.next_opening(HOURS, "Europe/Rome", sat) == dt.datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def test_calling_hours_follow_a_dst_change():
    # The US moves to daylight time on Sunday 8 March 2026: 13:30 UTC is 08:30 EST before, 09:30 EDT after.
    before = dt.datetime(2026, 3, 6, 13, 30, tzinfo=UTC)
    after = dt.datetime(2026, 3, 9, 13, 30, tzinfo=UTC)
    assert not compliance.within_hours(HOURS, "America/New_York", before)
    assert compliance.within_hours(HOURS, "America/New_York", after)
    # Opening at 09:00 local: 14:00 UTC before the change, 13:00 UTC after it.
    assert compliance.next_opening(HOURS, "America/New_York", before) == dt.datetime(2026, 3, 6, 14, 0, tzinfo=UTC)
    sat_night = dt.datetime(2026, 3, 8, 2, 0, tzinfo=UTC)  # Saturday 21:00 EST
    assert compliance.next_opening(HOURS, "America/New_York", sat_night) == dt.datetime(2026, 3, 9, 13, 0,
                                                                                       tzinfo=UTC)
    # Europe changes on 29 March: 20:00 local closes at 19:00 UTC before and 18:00 UTC after.
    assert compliance.within_hours(HOURS, "Europe/Rome", dt.datetime(2026, 3, 27, 18, 30, tzinfo=UTC))
    assert not compliance.within_hours(HOURS, "Europe/Rome", dt.datetime(2026, 3, 30, 18, 30, tzinfo=UTC))


def _campaign(profile=RegulatoryProfile.US):
    return SimpleNamespace(profile=profile, retry_busy_minutes=15, retry_no_answer_minutes=120,
                           retry_machine_minutes=240, retry_abandoned_minutes=60)


def test_retry_delays_per_outcome_and_the_uk_quiet_periods():
    us, uk = _campaign(), _campaign(RegulatoryProfile.UK)
    assert compliance.retry_delay(us, AttemptOutcome.BUSY) == dt.timedelta(minutes=15)
    assert compliance.retry_delay(us, AttemptOutcome.NO_ANSWER) == dt.timedelta(minutes=120)
    assert compliance.retry_delay(us, AttemptOutcome.MACHINE) == dt.timedelta(minutes=240)
    assert compliance.retry_delay(us, AttemptOutcome.ABANDONED) == dt.timedelta(minutes=60)
    assert compliance.retry_delay(uk, AttemptOutcome.ABANDONED) == dt.timedelta(hours=72)
    assert compliance.retry_delay(uk, AttemptOutcome.MACHINE) == dt.timedelta(hours=24)
    assert compliance.retry_delay(us, AttemptOutcome.CONNECTED) is None


def test_the_72_hour_rule_is_a_uk_rule():
    at = dt.datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    abandoned = at - dt.timedelta(hours=71)
    assert not compliance.repeat_call_allowed(RegulatoryProfile.UK, abandoned, None, at)
    assert compliance.repeat_call_allowed(RegulatoryProfile.UK, abandoned, None, at + dt.timedelta(hours=1))
    assert compliance.repeat_call_allowed(RegulatoryProfile.US, abandoned, None, at)
    assert not compliance.repeat_call_allowed(RegulatoryProfile.UK, None, at - dt.timedelta(hours=23), at)


def test_window_starts():
    at = dt.datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    assert compliance.window_start(RegulatoryProfile.UK, at, "Europe/London") == dt.datetime(2026, 3, 5, tzinfo=UTC)
    assert compliance.window_start(RegulatoryProfile.US, at, "UTC") == at - dt.timedelta(days=30)


def _state(**kw):
    base = {"operators": 20, "free": 5, "channels_free": 40}
    return pacing.FloorState(**{**base, **kw})


def test_predictive_over_dials_for_free_operators_within_the_headroom():
    est = pacing.Estimates(live_rate=0.25)
    decision = pacing.calls_to_place(_state(), est, pacing.Control(threshold=0.1), channel_budget=40)
    assert decision.mode == "predictive"
    assert 5 < decision.calls <= 40  # more calls than free operators: most will not be answered by a person
    tight = pacing.calls_to_place(_state(channels_free=3), est, pacing.Control(threshold=0.1), channel_budget=40)
    assert tight.calls == 3  # never beyond the headroom
    capped = pacing.calls_to_place(_state(free=20, max_dial_ratio=1.0, ringing_age_s=[1.0] * 18), est,
                                   pacing.Control(threshold=0.5), channel_budget=40)
    assert capped.calls == 2  # at most max_dial_ratio × operators in flight


def test_calls_in_flight_and_waiting_lives_hold_dialing_back():
    est = pacing.Estimates(live_rate=0.25)
    idle = pacing.calls_to_place(_state(), est, pacing.Control(), channel_budget=40).calls
    busy = pacing.calls_to_place(_state(ringing_age_s=[2.0] * 12, waiting_live=2), est, pacing.Control(),
                                 channel_budget=40).calls
    assert busy < idle
    # no free operator, nobody in wrap-up, calls just started: nothing to dial for
    assert pacing.calls_to_place(_state(free=0, talk_elapsed_s=[5.0] * 20), est, pacing.Control(),
                                 channel_budget=40).calls == 0
    # an operator whose wrap-up ends in 3 s is as good as free
    assert pacing.calls_to_place(_state(free=0, wrap_remaining_s=[3.0]), est, pacing.Control(),
                                 channel_budget=40).calls >= 1


def test_small_teams_and_small_budgets_fall_back_to_progressive():
    est = pacing.Estimates(live_rate=0.25)
    small = pacing.calls_to_place(_state(operators=3, free=2), est, pacing.Control(), channel_budget=40)
    assert (small.mode, small.calls) == ("progressive", 2)
    poor = pacing.calls_to_place(_state(), est, pacing.Control(), channel_budget=20)  # 1 channel per operator
    assert (poor.mode, poor.calls) == ("progressive", 5)


def test_the_threshold_falls_when_abandons_run_over_the_aim_and_rises_under_it():
    c = pacing.Control(threshold=0.1)
    over = pacing.update_control(c, window_live=1000, window_abandoned=60, target=0.03, recent_live=300,
                                 recent_abandoned=20, expected_window_lives=3000)
    under = pacing.update_control(c, window_live=1000, window_abandoned=0, target=0.03, recent_live=300,
                                  recent_abandoned=0, expected_window_lives=3000)
    assert over.threshold < c.threshold < under.threshold
    assert pacing.aim(0.03, 1000) < pacing.aim(0.03, 10000) < 0.03


def test_estimates_learn_the_live_rate_and_that_old_unresolved_calls_are_no_answers():
    history = ([pacing.Resolved(10.0, True)] * 100 + [pacing.Resolved(3.0, False)] * 100
               + [pacing.Resolved(20.0, False)] * 200)
    est = pacing.estimate(history, [180.0] * 50)
    assert est.live_rate == pytest.approx((100 + 0.25 * 50) / 450)
    # still ringing at 16 s: past every live answer -> almost surely a no-answer
    assert est.live_answer_within(GRID_LAST := len(est.ring_quantiles) - 1, 16.0) < 0.02
    assert est.live_answer_within(GRID_LAST, 4.0) > 0.3


def test_the_dialer_speaks_italian():
    with translation.override("it"):
        assert str(CampaignState.RUNNING.label) == "In corso"
        assert str(RefusalReason.DO_NOT_CALL.label) == "Nel registro da non chiamare"
