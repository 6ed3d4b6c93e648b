"""Erlang B (channels for a blocking target) and Erlang C (operators for a service level).

Traffic A in Erlangs = calls per hour × average handle (or holding) seconds ÷ 3600.
"""

from __future__ import annotations

import math


def erlang_b(traffic: float, channels: int) -> float:
    """Probability that a call finds every channel busy (blocked), by the stable recurrence."""
    if traffic < 0 or channels < 0:
        raise ValueError("traffic and channels must not be negative")
    blocking = 1.0
    for n in range(1, channels + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


def channels_for_blocking(traffic: float, target: float = 0.01) -> int:
    """The fewest channels whose Erlang B blocking is at most `target`."""
    if not 0 < target < 1:
        raise ValueError("the blocking target is a probability between 0 and 1")
    n = 0
    while erlang_b(traffic, n) > target:
        n += 1
    return n


def erlang_c(traffic: float, agents: int) -> float:
    """Probability that a call has to wait (all agents busy); 1 when the agents cannot keep up."""
    if agents <= traffic:
        return 1.0
    b = erlang_b(traffic, agents)
    return agents * b / (agents - traffic * (1 - b))


def service_level(traffic: float, agents: int, handle_seconds: float, target_seconds: float) -> float:
    """Share of calls answered within `target_seconds` (Erlang C)."""
    if agents <= traffic:
        return 0.0
    return 1 - erlang_c(traffic, agents) * math.exp(-(agents - traffic) * target_seconds / handle_seconds)


def agents_for_service_level(traffic: float, handle_seconds: float, target_level: float = 0.8,
                             target_seconds: float = 20) -> int:
    """The fewest agents that answer `target_level` of calls within `target_seconds`."""
    agents = max(1, math.floor(traffic) + 1)
    while service_level(traffic, agents, handle_seconds, target_seconds) < target_level:
        agents += 1
    return agents
