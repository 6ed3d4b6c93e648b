"""The abandon rate of a regulatory window, on the database, as the estimation loop and the campaign page read
it: Ofcom's machine-share formula on the worked example (29 drops, 9 agent-handled live calls, 7 agent-coded
machines: 64.44 %), the UK window from midnight in the account's zone, the US one over 30 days."""

from __future__ import annotations

import datetime as dt

import pytest

from dialer import pacer, stats
from dialer.choices import AttemptOutcome, DispositionKind, RegulatoryProfile
from dialer.models import Attempt, Disposition

pytestmark = pytest.mark.django_db(transaction=True)


def _attempt(f, lead, n: int, outcome: str, answered: dt.datetime, kind: str | None = None) -> None:
    a = Attempt.objects.create(account=f.account, campaign=f.campaign, lead=lead, number=n, outcome=outcome,
                               created_at=answered, dialed_at=answered - dt.timedelta(seconds=8),
                               answered_at=answered, ended_at=answered + dt.timedelta(seconds=60),
                               connected_at=None if kind is None else answered + dt.timedelta(seconds=1))
    if kind is not None:
        Disposition.objects.create(attempt=a, kind=kind, at=a.ended_at)


def _worked_example(f, at: dt.datetime) -> None:
    lead = f.lead("+442079460000", "Europe/London")
    n = 0
    for outcome, kind, count in [(AttemptOutcome.ABANDONED, None, 29),
                                 (AttemptOutcome.CONNECTED, DispositionKind.SALE, 9),
                                 (AttemptOutcome.CONNECTED, DispositionKind.MACHINE, 7),
                                 (AttemptOutcome.MACHINE, None, 5)]:   # AMD machines count nowhere
        for _ in range(count):
            n += 1
            _attempt(f, lead, n, outcome, at - dt.timedelta(minutes=n), kind)
    # yesterday (London), outside the UK window, inside the US one
    _attempt(f, lead, n + 1, AttemptOutcome.ABANDONED, at - dt.timedelta(hours=13))


def test_ofcom_formula_counts_the_uk_window(floor, clock):
    f = floor(operators=1, profile=RegulatoryProfile.UK)
    f.account.timezone = "Europe/London"
    f.account.save(update_fields=["timezone"])
    at = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
    clock.set(at)
    _worked_example(f, at)
    f.campaign.refresh_from_db()
    window = stats.window_rate(f.campaign, at)
    assert window.start == dt.datetime(2026, 3, 4, 0, 0, tzinfo=dt.UTC)
    assert round(100 * window.rate, 2) == 64.44
    # the live-drop estimate: 29 - 29 x 7/16, over 9 agent-handled live calls plus it
    assert window.abandoned == pytest.approx(29 - 29 * 7 / 16)
    assert window.live == pytest.approx(9 + 29 - 29 * 7 / 16)
    # The estimation loop steers on the same figure.
    pacer.estimate_campaign(f.campaign.pk)
    f.campaign.refresh_from_db()
    assert round(100 * f.campaign.pacing["window_rate"], 2) == 64.44
    assert (f.campaign.pacing["window_live"], f.campaign.pacing["window_abandoned"]) == (25, 16)


def test_us_window_is_30_days_over_live_answers(floor, clock):
    f = floor(operators=1, profile=RegulatoryProfile.US)
    at = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
    clock.set(at)
    _worked_example(f, at)
    window = stats.window_rate(f.campaign, at)
    assert window.start == at - dt.timedelta(days=30)
    # 30 abandoned (yesterday's too) over 46 live answers (abandoned and connected; AMD machines excluded)
    assert (window.abandoned, window.live) == (30, 46)
