"""The simulator's outbound side: what the far end of a dialled number does (a person answers, nobody does,
busy, a machine, an invalid number; ring-to-answer, talk time, AMD errors) and, at `speed="max"`, the
dialer's placement loop ticking on the simulated clock (in real time Celery beat paces the campaigns).

Why its own module: the engine plays inbound callers and operators' phones; the outcomes of originated calls
are drawn here from a scenario's rates, with the engine's random stream, so a run stays deterministic for a
seed and the same code drives the demo floor's campaign and a test.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialer import actions as dialer_actions
from dialer import pacer
from dialer.choices import CampaignState
from dialer.models import Campaign
from telephony import port

from .items import ItemKind

PLACEMENT_EVERY_S = 1.0  # the dialer's placement loop, on the simulated clock
ESTIMATE_EVERY_S = 15.0
BUSY_AFTER_S = 3.0
MACHINE_GREETING_S = 3.0  # AMD decides this long after the pick-up
INVALID_AFTER_S = 2.0
AUTO_ANSWER_S = 0.5  # an operator's phone on a dialer campaign answers by itself (a headset on auto-answer)


@dataclass(frozen=True)
class OutboundRates:
    """What a dialled number does (dialer-reference.md's assumptions by default). The non-live share splits
    into no answer, busy, machine and invalid by their weights."""

    live: float = 0.35
    no_answer: float = 0.5
    busy: float = 0.2
    machine: float = 0.3
    invalid: float = 0.0
    ring_to_answer_s: tuple[float, float] = (5.0, 15.0)
    talk_mean_s: float = 180.0
    amd_false_machine: float = 0.02   # a person taken for a machine (counted as abandoned by Ofcom)
    amd_false_human: float = 0.05     # a machine taken for a person (an operator hears it)

    def __post_init__(self) -> None:
        if not 0.0 <= self.live <= 1.0:
            raise ValueError("live must be a probability")
        if min(self.no_answer, self.busy, self.machine, self.invalid) < 0 or \
                self.no_answer + self.busy + self.machine + self.invalid <= 0:
            raise ValueError("the non-live weights must be non-negative and not all zero")


class Outbound:
    """Plays the far end of each originate the ACD sends, and ticks the dialer's loops at max speed."""

    def __init__(self, engine, rates: OutboundRates, *, pace: bool) -> None:
        self.engine = engine
        self.rates = rates
        self.pace = pace
        self.outcomes: dict[str, int] = {}
        self.refs: set[str] = set()   # the originated calls (their operator legs are answered at once)
        self.auto_answer_s = AUTO_ANSWER_S
        self.last_estimate = None

    def start(self) -> None:
        if self.pace:
            self.engine.after(PLACEMENT_EVERY_S, ItemKind.DIAL_TICK)

    def _draw_outcome(self) -> str:
        r, rng = self.rates, self.engine.rng
        if rng.random() < r.live:
            return "live"
        x = rng.random() * (r.no_answer + r.busy + r.machine + r.invalid)
        for name, weight in (("no_answer", r.no_answer), ("busy", r.busy), ("machine", r.machine)):
            if x < weight:
                return name
            x -= weight
        return "invalid"

    def originate(self, command: port.Originate, sim_call_type) -> None:
        """The far end of one dialled number: draw its outcome and schedule what the carrier reports."""
        e, r = self.engine, self.rates
        outcome = self._draw_outcome()
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        ref = command.call_ref
        self.refs.add(ref)
        e.calls[ref] = sim_call_type(ref=ref, caller=command.caller_id, number=command.destination,
                                     handle_seconds=max(10.0, e.rng.expovariate(1 / r.talk_mean_s)))
        ev = {"event_id": e.event_id(), "call_ref": ref}
        timeout = float(command.timeout_seconds)
        answer_after = e.rng.uniform(*r.ring_to_answer_s)
        if outcome == "invalid":
            e.after(INVALID_AFTER_S, ItemKind.DELIVER, event=port.LegRejected(**ev, leg_ref=ref))
        elif outcome == "busy":
            e.after(BUSY_AFTER_S, ItemKind.DELIVER, event=port.LegBusy(**ev, leg_ref=ref))
        elif outcome == "no_answer" or answer_after >= timeout:
            e.after(timeout, ItemKind.DELIVER, event=port.LegNoAnswer(**ev, leg_ref=ref))
        elif not command.amd:
            e.after(answer_after, ItemKind.DELIVER, event=port.LegAnswered(**ev, leg_ref=ref))
        else:
            machine = outcome == "machine"
            wrong = e.rng.random() < (r.amd_false_human if machine else r.amd_false_machine)
            verdict = "machine" if machine != wrong else "human"
            e.after(answer_after + (MACHINE_GREETING_S if machine else 0.0), ItemKind.DELIVER,
                    event=port.AmdResult(**ev, verdict=verdict))

    def tick(self) -> None:
        """The placement loop (and every 15 s the estimation loop) of the account's running campaigns, on the
        simulated clock; the originates they produce come back to the engine through the outbox."""
        e = self.engine
        if e.now >= e.end:
            return
        now = e.now
        for campaign_id in Campaign.objects.filter(account_id=e.account_id, state=CampaignState.RUNNING) \
                .values_list("pk", flat=True):
            if self.last_estimate is None or (now - self.last_estimate).total_seconds() >= ESTIMATE_EVERY_S:
                pacer.estimate_campaign(campaign_id)
            tick = pacer.place_tick(campaign_id, owner=f"sim:{e.run_tag}")
            for attempt_id in tick.placed:
                dialer_actions.place_attempt(attempt_id)
        if self.last_estimate is None or (now - self.last_estimate).total_seconds() >= ESTIMATE_EVERY_S:
            self.last_estimate = now
        e.outbox_pending = True
        e.after(PLACEMENT_EVERY_S, ItemKind.DIAL_TICK)
