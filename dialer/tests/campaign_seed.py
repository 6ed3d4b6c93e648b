"""A campaign with a few hours behind it, for the campaign page's tests: attempts of every outcome (dialled,
answered, connected, ended), dispositions and the operators' log, spread over the last three hours."""

from __future__ import annotations

import datetime as dt

from agents.choices import OperatorState, Via
from agents.models import OperatorEvent
from dialer.choices import AttemptOutcome, DispositionKind, LeadState
from dialer.models import Attempt, Disposition, Lead

CYCLE = [AttemptOutcome.CONNECTED, AttemptOutcome.NO_ANSWER, AttemptOutcome.BUSY, AttemptOutcome.MACHINE,
         AttemptOutcome.CONNECTED, AttemptOutcome.NO_ANSWER, AttemptOutcome.CONNECTED, AttemptOutcome.NO_ANSWER,
         AttemptOutcome.CONNECTED, AttemptOutcome.BUSY, AttemptOutcome.CONNECTED, AttemptOutcome.NO_ANSWER,
         AttemptOutcome.CONNECTED, AttemptOutcome.MACHINE, AttemptOutcome.CONNECTED, AttemptOutcome.NO_ANSWER,
         AttemptOutcome.CONNECTED, AttemptOutcome.NO_ANSWER, AttemptOutcome.CONNECTED, AttemptOutcome.ABANDONED]


def seed_history(floor, at: dt.datetime, hours: int = 3, every_s: int = 40) -> int:
    """One attempt every every_s seconds over the last `hours`; the operators log in at the start and cycle
    through calls. Returns the number of attempts.
    A live answer that finds no operator free is abandoned, as on a real floor."""
    start = at - dt.timedelta(hours=hours)
    for op in floor.ops:
        OperatorEvent.objects.create(account=floor.account, operator=op, at=start - dt.timedelta(minutes=1),
                                     from_state=OperatorState.LOGGED_OUT, to_state=OperatorState.AVAILABLE,
                                     via=Via.CONSOLE)
    n = 0
    t = start
    free_at = {op.pk: start for op in floor.ops}   # when each operator is free again (after wrap-up)
    while t < at - dt.timedelta(minutes=2):
        outcome = CYCLE[n % len(CYCLE)]
        op = min(floor.ops, key=lambda o: free_at[o.pk])
        if outcome == AttemptOutcome.CONNECTED and free_at[op.pk] > t + dt.timedelta(seconds=10):
            outcome = AttemptOutcome.ABANDONED   # nobody free within 2 s of the answer
        lead = Lead.objects.create(account=floor.account, lead_list=floor.list, phone=f"+3906{10000000 + n}",
                                   timezone="Europe/Rome", state=LeadState.DONE, attempts=1)
        answered = t + dt.timedelta(seconds=8) if outcome in (
            AttemptOutcome.CONNECTED, AttemptOutcome.ABANDONED, AttemptOutcome.MACHINE) else None
        connected = answered + dt.timedelta(seconds=1) if outcome == AttemptOutcome.CONNECTED else None
        talk = 100 + (n * 37) % 160
        ended = (connected + dt.timedelta(seconds=talk)) if connected else t + dt.timedelta(
            seconds=20 if outcome == AttemptOutcome.NO_ANSWER else 12)
        a = Attempt.objects.create(account=floor.account, campaign=floor.campaign, lead=lead, number=1,
                                   outcome=outcome, created_at=t, dialed_at=t, answered_at=answered,
                                   connected_at=connected, ended_at=ended)
        if connected:
            free_at[op.pk] = ended + dt.timedelta(seconds=5)
            kind = DispositionKind.SALE if n % 3 else DispositionKind.NOT_INTERESTED
            Disposition.objects.create(attempt=a, kind=kind, at=ended)
            for when, a_from, a_to in ((connected, OperatorState.AVAILABLE, OperatorState.ON_CALL),
                                       (ended, OperatorState.ON_CALL, OperatorState.WRAP_UP),
                                       (ended + dt.timedelta(seconds=5), OperatorState.WRAP_UP,
                                        OperatorState.AVAILABLE)):
                OperatorEvent.objects.create(account=floor.account, operator=op, at=when, from_state=a_from,
                                             to_state=a_to, via=Via.ACD)
        n += 1
        t += dt.timedelta(seconds=every_s)
    Lead.objects.bulk_create([Lead(account=floor.account, lead_list=floor.list, phone=f"+3906{20000000 + k}",
                                   timezone="Europe/Rome") for k in range(n // 2)])
    return n
