"""The kinds of item in the simulator's event loop (`simulator.engine`)."""

from __future__ import annotations

from django.db import models


class ItemKind(models.TextChoices):
    """What an item of the event loop is: each kind is carried out by the engine's `_on_<kind>` method."""

    ARRIVAL = "arrival", "a caller dials"
    PATIENCE = "patience", "a waiting caller gives up"
    CALLER_HANGUP = "caller_hangup", "a connected caller hangs up"
    DELIVER = "deliver", "the engine reports an event (a prompt ended, a leg answered, ...)"
    SWEEP = "sweep", "the ACD's timers are due"
    BREAK = "break", "an operator takes a break"
    BREAK_OVER = "break_over", "an operator is back from a break"
    FLOOR_CHECK = "floor_check", "operators paused for not answering notice it"
    STATISTICS = "statistics", "the planner's statistics are refreshed"
    DIAL_TICK = "dial_tick", "the dialer's loops tick"
