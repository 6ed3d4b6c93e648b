"""Increment rules on boundary durations, and Erlang B/C against published table values."""

from decimal import Decimal

import pytest

from billing.erlang import (
    agents_for_service_level,
    channels_for_blocking,
    erlang_b,
    erlang_c,
    service_level,
)
from billing.minutes import billable_seconds, overage_cost

BOUNDARIES = [0, 1, 6, 30, 31, 60, 61]


@pytest.mark.parametrize(("rule", "expected"), [
    ((1, 1), [0, 1, 6, 30, 31, 60, 61]),
    ((6, 6), [0, 6, 6, 30, 36, 60, 66]),
    ((30, 6), [0, 30, 30, 30, 36, 60, 66]),
    ((60, 60), [0, 60, 60, 60, 60, 60, 120]),
])
def test_increment_rules_on_boundaries(rule, expected):
    assert [billable_seconds(d, *rule) for d in BOUNDARIES] == expected


def test_a_started_second_counts():
    assert billable_seconds(0.2, 1, 1) == 1
    assert billable_seconds(60.0001, 60, 60) == 120
    assert billable_seconds(59.9999, 60, 60) == 60
    with pytest.raises(ValueError):
        billable_seconds(10, 0, 6)


def test_overage():
    assert overage_cost(15_000 * 60, 15_000, Decimal("0.02")) == Decimal("0.00")
    assert overage_cost(15_000 * 60 + 90, 15_000, Decimal("0.02")) == Decimal("0.03")
    assert overage_cost(600, None, Decimal("0.10")) == Decimal("1.00")


@pytest.mark.parametrize(("traffic", "channels", "blocking"), [
    # Erlang B table values (blocking probability for A Erlangs on N channels)
    (1.0, 3, 0.0625),
    (2.0, 5, 0.0367),
    (10.0, 15, 0.0365),
    (4.46, 10, 0.0100),
    (12.03, 20, 0.0100),
])
def test_erlang_b_table(traffic, channels, blocking):
    assert erlang_b(traffic, channels) == pytest.approx(blocking, abs=5e-4)


@pytest.mark.parametrize(("traffic", "channels"), [(1.36, 5), (4.46, 10), (12.03, 20), (37.9, 50), (84.06, 100)])
def test_channels_for_one_percent_blocking(traffic, channels):
    # The 1% column of the Erlang B table: this much traffic needs exactly this many channels.
    assert channels_for_blocking(traffic, 0.01) == channels


def erlang_c_by_sums(a: float, n: int) -> float:
    """Erlang C straight from its textbook definition, to check the recurrence-based implementation."""
    import math

    top = a ** n / math.factorial(n) * n / (n - a)
    return top / (sum(a ** k / math.factorial(k) for k in range(n)) + top)


def test_erlang_c_and_service_level():
    assert erlang_c(2.0, 3) == pytest.approx(0.4444, abs=1e-4)  # the textbook example
    assert erlang_c(5.0, 5) == 1.0  # agents who cannot keep up: everyone waits
    for a, n in [(2.0, 3), (10.0, 13), (10.0, 14), (48.0, 55), (0.5, 1)]:
        assert erlang_c(a, n) == pytest.approx(erlang_c_by_sums(a, n), rel=1e-9)
    # 10 Erlangs (200 calls/h × 180 s), 80 % within 20 s: 13 agents fall short, 14 suffice.
    assert service_level(10.0, 13, 180, 20) == pytest.approx(1 - erlang_c_by_sums(10.0, 13) * 0.71653, abs=1e-4)
    assert service_level(10.0, 14, 180, 20) >= 0.8 > service_level(10.0, 13, 180, 20)
    assert agents_for_service_level(10.0, 180, 0.8, 20) == 14
