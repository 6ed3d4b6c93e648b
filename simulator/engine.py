"""The discrete-event engine: plays the callers, the carrier and the operators' phones.

It feeds events to the production ACD through the port (`acd.actions.handle_event`) and carries out the
commands it gets back, exactly as a PBX would. Time is the simulator's own clock (`use_clock`): at
`speed="max"` a manual clock jumps from event to event; at `speed="realtime"` the system clock runs and
the engine sleeps until each event is due. For a given seed the run is deterministic.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import itertools
import random
import time
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from acd import actions
from acd.models import Call, Offer
from agents import actions as presence
from agents.choices import OperatorState, PauseSource
from agents.models import Operator, PauseReason
from core.clock import ManualClock, SystemClock, use_clock
from core.errors import ActionError
from core.pipeline import read_after_commit
from routing.models import PhoneNumber, Service, ServiceMembership
from telephony import outbox, port
from telephony.backends import simulator as sim_backend

from .items import ItemKind
from .menus import MenuCallers
from .outbound import Outbound, OutboundRates
from .scenario import Distribution, OperatorGroup, Scenario

RING_SECONDS = 5.0  # one ring, as a carrier plays it
DIGITS_AFTER = 4.0  # a caller types the code this long after being asked
DRAIN_AFTER_END = dt.timedelta(hours=4)  # calls still in progress when arrivals stop may finish
FLOOR_CHECK_SECONDS = 30.0  # how often simulated operators look at their phone's "paused" light

# At max speed the ACD's timers change only through this engine: the events it sends, the sweeps it runs and
# its operators' presence actions. An item that did none of these (a patience timer after the caller was
# connected, a leg event for a cancelled leg, a floor check that found nobody to resume, a break put off
# because the operator is on a call) leaves the next deadline as it was, and its lookup is skipped (in real
# time the web console changes the ACD too: there every item looks).
STATISTICS_EVERY_SECONDS = 3600.0  # at max speed, the planner's statistics are refreshed every simulated hour
_CANNOT_PAUSE = frozenset({OperatorState.ON_CALL, OperatorState.RINGING, OperatorState.PAUSED})
# Operators the engine leaves as they are when it logs its operators off: out already, or on a call or ringing
# (the call's end frees them; logging them off would be refused).
_STAYS_AT_LOG_OFF = frozenset({OperatorState.LOGGED_OUT, OperatorState.ON_CALL, OperatorState.RINGING})
# Items whose only writes are the engine events they send (each a unit that commits its own transaction, in
# `core.pipeline`): the state after the last of those commits is the state the next deadline is read from.
CALL_KINDS = frozenset({ItemKind.ARRIVAL, ItemKind.PATIENCE, ItemKind.CALLER_HANGUP, ItemKind.DELIVER})
# Items after which the next deadline rides with the COMMIT of their last unit of work (at max speed): the engine
# events' units, and the sweep's (one unit per due item, nothing else committing in between). Presence actions
# commit through Django: after those the deadline is asked apart.
PROBED_KINDS = CALL_KINDS | {ItemKind.SWEEP}
_UNREAD = object()  # a value not read from the database yet
HANG_UP_BATCH = 1000  # call refs asked about per statement when the engine stops


class SimulationError(RuntimeError):
    pass


@dataclass
class SimCall:
    ref: str
    caller: str
    number: str
    handle_seconds: float
    connected: bool = False
    ended: bool = False
    cancelled_legs: set[str] = field(default_factory=set)


@dataclass(order=True)
class Item:
    at: dt.datetime
    seq: int
    kind: ItemKind = field(compare=False)
    data: dict[str, Any] = field(compare=False, default_factory=dict)


class Engine:
    def __init__(self, scenario: Scenario, account_id: int, *, seed: int, speed: str = "max",
                 hours: float | None = None, progress: Callable[[float], None] | None = None,
                 outbound: OutboundRates | None = None) -> None:
        if speed not in ("max", "realtime"):
            raise SimulationError(f"speed must be 'max' or 'realtime', not {speed!r}")
        self.scenario = scenario
        self.account_id = account_id
        self.rng = random.Random(seed)
        self.speed = speed
        self.hours = hours if hours is not None else scenario.hours
        self.progress = progress
        self.heap: list[Item] = []
        self.seq = itertools.count()
        self.ids = itertools.count(1)
        # Event ids and call refs are unique per run: the demo floor's account outlives a `make run`, and an id
        # reused by the next run would be taken for a redelivery (its event ignored) or meet an old call.
        self.run_tag = uuid.uuid4().hex[:8]
        self.calls: dict[str, SimCall] = {}
        self.callers: list[str] = []
        self.profiles: dict[str, OperatorGroup] = {}
        self.codes: list[int] = []
        self.menu_callers = MenuCallers(scenario.menus, self.rng)
        self.whispers: dict[str, int] = {}  # whisper → times played to an operator
        self.next_sweep: dt.datetime | None = None
        self.outbox_pending = True
        self.handed: list[port.Command] = []  # commands the backend handed over after their commit
        self.events = 0  # items of the event loop (arrivals, engine events, timers, operators' moves)
        self.port_events = 0  # events sent to the ACD through the port
        self.presence_changes = 0  # the simulated operators' presence actions that took effect (pause, resume)
        self.pause_reason: int | object | None = _UNREAD  # the pause reason breaks are taken with (`_pause_reason`)
        if speed == "max":
            self.clock: ManualClock | SystemClock = ManualClock(scenario.start.astimezone(dt.UTC))
            self.start = self.clock.now()
        else:
            self.clock = SystemClock()
            self.start = self.clock.now()
        self.end = self.start + dt.timedelta(hours=self.hours)
        # Originated calls' far end (dialer campaigns); at max speed the dialer's loops tick on our clock.
        # Their rates: given (a test, the benchmark), else the scenario's `outbound` shares.
        o = scenario.outbound
        rates = outbound or OutboundRates(live=o.live, no_answer=o.no_answer, busy=o.busy, machine=o.machine,
                                          invalid=o.invalid)
        self.outbound = Outbound(self, rates, pace=outbound is not None and speed == "max")

    # --- scheduling ------------------------------------------------------------------------------------
    def at(self, moment: dt.datetime, kind: ItemKind, **data: Any) -> None:
        heapq.heappush(self.heap, Item(moment, next(self.seq), kind, data))

    def after(self, seconds: float, kind: ItemKind, **data: Any) -> None:
        self.at(self.now + dt.timedelta(seconds=max(0.0, seconds)), kind, **data)

    @property
    def now(self) -> dt.datetime:
        return self.clock.now()

    def draw(self, dist: Distribution) -> float:
        value = dist.mean if dist.fixed else self.rng.expovariate(1 / dist.mean) if dist.mean > 0 else 0.0
        return min(max(value, dist.minimum), dist.maximum)

    # --- the run ---------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        started = time.perf_counter()
        with use_clock(self.clock):
            if self.speed == "max":
                with connection.cursor() as cur:  # a simulation needs no durability: same code, faster
                    cur.execute("SET synchronous_commit TO off")
            self._prepare()
            if self.speed == "max":
                self._on_statistics()
            self.outbound.start()
            prepared = time.perf_counter()
            sim_backend.register(self.account_id, self._outbox_has_commands, self.handed.extend)
            try:
                self._loop()
            finally:
                self._hang_up_calls_still_up()
                sim_backend.unregister(self.account_id)
                self._log_everyone_off()
        return {"events": self.events, "port_events": self.port_events, "whispers": self.whispers,
                "wall_seconds": round(time.perf_counter() - started, 2),
                "prepare_seconds": round(prepared - started, 2),  # logging the operators in, before the day
                "simulated_hours": self.hours, "start": self.start.isoformat(), "end": self.end.isoformat()}

    def _prepare(self) -> None:
        self._end_calls_left_over()
        self._log_everyone_off()  # a run that was killed may have left operators paused for good
        for op, group in self._simulated_operators():
            self.profiles[op.endpoint] = group
            self.codes.append(op.code)
            with contextlib.suppress(ActionError):  # a reused account's operators may be logged in already
                presence.login_operator(op.pk)
            if group.breaks_every_minutes:
                self.after(self.rng.uniform(0, group.breaks_every_minutes * 60), ItemKind.BREAK, operator=op.pk,
                           group=group.prefix)
        for arrival in self.scenario.arrivals:
            self._schedule_arrival(arrival.number, arrival.per_hour)
        self.after(FLOOR_CHECK_SECONDS, ItemKind.FLOOR_CHECK)
        self._drain()

    def _on_statistics(self) -> None:
        """Give PostgreSQL's planner the floor and the day as they are now (at max speed: before the day, then
        every simulated hour). A simulation builds its floor (hundreds of operators and memberships) a moment
        before it starts and plays hours of calls in seconds, far faster than autovacuum's analyze notices, if
        it runs at all. Planned on the statistics of empty tables, the routing statement joined every free
        operator with every membership of the service (its cost grew with the square of the floor), and the
        timers' statements read every call and offer of the day instead of their partial indexes."""
        tables = [m._meta.db_table for m in (Operator, ServiceMembership, Service, PhoneNumber, Call, Offer)]
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {', '.join(tables)}")
        if self.now < self.end:
            self.after(STATISTICS_EVERY_SECONDS, ItemKind.STATISTICS)

    def _loop(self) -> None:
        hard_stop = self.end + DRAIN_AFTER_END
        last_tick = time.monotonic()
        while self.heap:
            item = heapq.heappop(self.heap)
            if item.at > hard_stop:
                break
            if self.speed == "max":
                self.clock.set(max(item.at, self.now))
            else:
                self._sleep_until(item.at)
            self.events += 1
            sent, moved = self.port_events, self.presence_changes
            if self.speed == "max" and item.kind == ItemKind.SWEEP and item.data["due"] != self.next_sweep:
                continue  # superseded by an earlier sweep, which planned the next one: nothing to do or ask
            if self.speed == "max" and item.kind in PROBED_KINDS:
                # The next deadline rides with the COMMIT of the item's last unit of work (no round trip of
                # its own); asked apart only when none of ours committed (a redelivery, a rollback).
                with read_after_commit(*actions.next_deadline_statement(self.account_id)) as probe:
                    getattr(self, f"_on_{item.kind}")(**item.data)
                    self._drain()
                if item.kind == ItemKind.SWEEP or self.port_events != sent:
                    self._plan_sweep(actions.deadline_of(probe.rows) if probe.fresh else self._next_deadline())
            else:
                getattr(self, f"_on_{item.kind}")(**item.data)
                self._drain()
                if self.speed != "max" or self.port_events != sent or self.presence_changes != moved:
                    self._plan_sweep(self._next_deadline())
            if self.progress is not None and time.monotonic() - last_tick > 0.2:
                last_tick = time.monotonic()
                self.progress(min(1.0, (self.now - self.start) / (self.end - self.start)))
        if self.progress is not None:
            self.progress(1.0)

    def _sleep_until(self, moment: dt.datetime) -> None:
        while (delay := (moment - self.clock.now()).total_seconds()) > 0:
            time.sleep(min(delay, 1.0))
            actions.sweep([self.account_id])  # real time: our own timers, and commands from the web
            self.outbox_pending = True  # another process (the web console) may have queued commands
            self._drain()

    # --- ACD side ----------------------------------------------------------------------------------------
    def send(self, event: port.Event) -> None:
        self.port_events += 1
        commands = actions.handle_event(event, account_id=self.account_id, source=f"sim:{self.account_id}")
        for command in commands:
            self._execute(command)

    def _outbox_has_commands(self, account_id: int) -> None:
        self.outbox_pending = True

    def _drain(self) -> None:
        """Carry out commands produced outside an event (timers, presence), in commit order: those handed over
        in process, and the outbox's rows only when the backend said there are some."""
        while self.handed or self.outbox_pending:
            while self.handed:
                self._execute(self.handed.pop(0))
            if self.outbox_pending:
                self.outbox_pending = False
                for command in outbox.take_pending(self.account_id):
                    self._execute(command)

    def _next_deadline(self) -> dt.datetime | None:
        return actions.next_deadline(self.account_id)

    def _plan_sweep(self, due: dt.datetime | None) -> None:
        if due is not None and (self.next_sweep is None or due < self.next_sweep or self.next_sweep < self.now):
            self.next_sweep = max(due, self.now)
            self.at(self.next_sweep, ItemKind.SWEEP, due=self.next_sweep)

    def _on_sweep(self, due: dt.datetime) -> None:
        if due != self.next_sweep:
            return  # superseded by an earlier sweep
        self.next_sweep = None
        actions.sweep([self.account_id])

    def event_id(self) -> str:
        return f"s{self.run_tag}-{next(self.ids)}"

    # --- callers ---------------------------------------------------------------------------------------
    def _schedule_arrival(self, number: str, per_hour: tuple[float, ...]) -> None:
        """Next Poisson arrival: thinning over the hour-of-day rate profile, in the account's time zone."""
        tz = zoneinfo.ZoneInfo(self.scenario.account.get("timezone", "Europe/Rome"))
        peak = max(per_hour)
        if peak <= 0:
            return
        moment = self.now
        while moment < self.end:
            moment += dt.timedelta(seconds=self.rng.expovariate(peak / 3600))
            if self.rng.random() * peak <= per_hour[moment.astimezone(tz).hour]:
                if moment < self.end:
                    self.at(moment, ItemKind.ARRIVAL, number=number, per_hour=per_hour)
                return

    def _caller(self) -> str:
        c = self.scenario.callers
        if self.callers and self.rng.random() < c.repeat_probability:
            return self.rng.choice(self.callers)
        caller = f"+39347{self.rng.randrange(min(c.population, 10_000_000)):07d}"
        self.callers.append(caller)
        return caller

    def _on_arrival(self, number: str, per_hour: tuple[float, ...]) -> None:
        self._schedule_arrival(number, per_hour)
        c = self.scenario.callers
        ref = f"sim-{self.run_tag}-{next(self.ids)}"
        call = SimCall(ref=ref, caller=self._caller(), number=number, handle_seconds=self.draw(c.handle))
        self.calls[ref] = call
        self.after(self.draw(c.patience), ItemKind.PATIENCE, ref=ref)
        self.send(port.IncomingCall(event_id=self.event_id(), call_ref=ref, dialed=number, caller=call.caller))

    def _on_patience(self, ref: str) -> None:
        call = self.calls[ref]
        if not call.connected and not call.ended:
            call.ended = True
            self.send(port.Hangup(event_id=self.event_id(), call_ref=ref, cause="caller_abandoned"))

    def _on_caller_hangup(self, ref: str) -> None:
        call = self.calls[ref]
        if not call.ended:
            call.ended = True
            self.send(port.Hangup(event_id=self.event_id(), call_ref=ref))

    def _on_dial_tick(self) -> None:
        self.outbound.tick()

    def _on_deliver(self, event: port.Event) -> None:
        call = self.calls.get(event.call_ref)
        if call is None or call.ended:
            return
        if isinstance(event, port.LegEvent) and event.leg_ref in call.cancelled_legs:
            return
        self.send(event)

    # --- operators -------------------------------------------------------------------------------------
    def _on_break(self, operator: int, group: str) -> None:
        profile = next(g for g in self.scenario.operators if g.prefix == group)
        # An operator on a call (or paused already) waits before pressing pause, as a person would: the
        # action would refuse and roll back, and every rollback costs the connection its prepared statements
        # (psycopg deallocates them all), which the next events then parse and plan again.
        if self._state_of(operator) in _CANNOT_PAUSE:
            self.after(60, ItemKind.BREAK, operator=operator, group=group)
            return
        try:
            presence.pause_operator(operator, reason_id=self._pause_reason())
            self.presence_changes += 1
        except ActionError:  # on a call, or the reason was withdrawn meanwhile: try again a little later
            self.pause_reason = _UNREAD
            self.after(60, ItemKind.BREAK, operator=operator, group=group)
            return
        self.after(profile.break_minutes * 60, ItemKind.BREAK_OVER, operator=operator, group=group)

    def _pause_reason(self) -> int | None:
        """The reason a simulated operator on a break picks, as a real one must when the account keeps a list:
        its first active one, read once and again only after a pause was refused (someone at the admin may
        have withdrawn it: the demo floor's account is shared with people), not on every break."""
        if self.pause_reason is _UNREAD:
            self.pause_reason = PauseReason.objects.filter(account_id=self.account_id, is_active=True) \
                .order_by("name").values_list("pk", flat=True).first()
        return self.pause_reason

    def _state_of(self, operator: int) -> str | None:
        return Operator.objects.filter(pk=operator).values_list("state", flat=True).first()

    def _on_floor_check(self) -> None:
        """Operators auto-paused for not answering notice it after a while and resume."""
        paused = Operator.objects.filter(account_id=self.account_id, state=OperatorState.PAUSED,
                                         pause_source=PauseSource.NO_ANSWER)
        for op_id, endpoint, since in paused.values_list("id", "endpoint", "state_changed_at"):
            profile = self.profiles.get(endpoint)
            if profile and (self.now - since).total_seconds() >= profile.back_after_auto_pause_minutes * 60:
                with contextlib.suppress(ActionError):
                    presence.resume_operator(op_id)
                    self.presence_changes += 1
        if self.now < self.end:
            self.after(FLOOR_CHECK_SECONDS, ItemKind.FLOOR_CHECK)

    def _on_break_over(self, operator: int, group: str) -> None:
        profile = next(g for g in self.scenario.operators if g.prefix == group)
        if self._state_of(operator) == OperatorState.PAUSED:  # not paused (a refused action rolls back)
            with contextlib.suppress(ActionError):  # paused for another reason (no answer): stays paused
                presence.resume_operator(operator)
                self.presence_changes += 1
        if profile.breaks_every_minutes and self.now < self.end:
            self.after(profile.breaks_every_minutes * 60, ItemKind.BREAK, operator=operator, group=group)

    # --- commands (what the engine does when the ACD tells it) --------------------------------------------
    def _execute(self, command: port.Command) -> None:
        if isinstance(command, port.Originate):
            self.outbound.originate(command, SimCall)
            return
        call = self.calls.get(command.call_ref)
        if call is None:
            return
        handler = getattr(self, f"_do_{command.type}", None)
        if handler is None:
            raise SimulationError(f"the simulator cannot carry out {command.type!r} commands yet")
        handler(call, command)

    def _deliver_later(self, seconds: float, event: port.Event) -> None:
        self.after(seconds, ItemKind.DELIVER, event=event)

    def _do_answer(self, call: SimCall, command: port.Answer) -> None:
        pass

    def _do_start_hold(self, call: SimCall, command: port.StartHold) -> None:
        pass

    def _do_stop_hold(self, call: SimCall, command: port.StopHold) -> None:
        pass

    def _do_play(self, call: SimCall, command: port.Play) -> None:
        if command.notify:
            self._deliver_later(command.seconds, port.PromptFinished(event_id=self.event_id(), call_ref=call.ref,
                                                                     prompt=command.prompt))

    def _do_collect_digits(self, call: SimCall, command: port.CollectDigits) -> None:
        key = self.menu_callers.digits_for(self.account_id, call.ref)
        if key is not None:  # a voice menu: the scenario's choices (simulator/menus.py)
            after = DIGITS_AFTER if key else float(command.timeout_seconds)
            self._deliver_later(after, port.Digits(event_id=self.event_id(), call_ref=call.ref, digits=key))
            return
        dial = self.codes and self.rng.random() < self.scenario.callers.dial_code_probability
        digits = f"{self.rng.choice(self.codes)}#" if dial else ""
        self._deliver_later(DIGITS_AFTER, port.Digits(event_id=self.event_id(), call_ref=call.ref, digits=digits))

    def _do_ring(self, call: SimCall, command: port.Ring) -> None:
        if command.whisper:  # the operator's phone hears it before the bridge
            self.whispers[command.whisper] = self.whispers.get(command.whisper, 0) + 1
        profile = self.profiles.get(command.endpoint)
        ev = {"event_id": self.event_id(), "call_ref": call.ref, "leg_ref": command.leg_ref}
        timeout = float(command.timeout_seconds)
        if call.ref in self.outbound.refs:  # a dialer's operators are on auto-answer (the 2-second rule)
            self._deliver_later(self.outbound.auto_answer_s, port.LegAnswered(**ev))
            return
        if profile is None:
            self._deliver_later(timeout, port.LegNoAnswer(**ev))
            return
        r = self.rng.random()
        if r < profile.busy_probability:
            self._deliver_later(1.0, port.LegBusy(**ev))
        elif r < profile.busy_probability + profile.reject_probability:
            self._deliver_later(2.0 + self.rng.random() * 3, port.LegRejected(**ev))
        elif self.rng.random() < profile.answer_probability:
            delay = self.rng.uniform(*profile.answer_delay_rings) * RING_SECONDS
            if delay < timeout:
                self._deliver_later(delay, port.LegAnswered(**ev))
            else:
                self._deliver_later(timeout, port.LegNoAnswer(**ev))
        else:
            self._deliver_later(timeout, port.LegNoAnswer(**ev))

    def _do_cancel_leg(self, call: SimCall, command: port.CancelLeg) -> None:
        call.cancelled_legs.add(command.leg_ref)

    def _do_bridge(self, call: SimCall, command: port.Bridge) -> None:
        if not call.connected:
            call.connected = True
            self.after(call.handle_seconds, ItemKind.CALLER_HANGUP, ref=call.ref)

    def _do_transfer(self, call: SimCall, command: port.Transfer) -> None:
        call.connected = True  # talking to the external number now; the caller hangs up later
        self.after(call.handle_seconds, ItemKind.CALLER_HANGUP, ref=call.ref)

    def _do_record_voicemail(self, call: SimCall, command: port.RecordVoicemail) -> None:
        call.connected = True
        seconds = self.draw(self.scenario.callers.voicemail)
        self._deliver_later(seconds, port.VoicemailRecorded(event_id=self.event_id(), call_ref=call.ref,
                                                            seconds=round(seconds, 1),
                                                            recording_url=f"sim://voicemail/{call.ref}.wav"))

    def _do_hangup(self, call: SimCall, command: port.HangupCall) -> None:
        call.ended = True

    def _end_calls_left_over(self) -> None:
        """An engine that starts has no call. The ACD may still hold calls of ours that a killed run left behind
        (the demo floor's account outlives `make run`): say they are over, as a restarted PBX would, so their
        channels and operators are free now rather than when the lease reconciler notices, hours later."""
        left_over = Call.objects.filter(account_id=self.account_id, ended_at__isnull=True,
                                        engine_ref__startswith="sim-").values_list("engine_ref", flat=True)
        for ref in list(left_over):
            self.send(port.Hangup(event_id=self.event_id(), call_ref=ref))

    def _hang_up_calls_still_up(self) -> None:
        """The engine stops (its day is over, Ctrl-C, SIGTERM from honcho or a benchmark): its callers' lines and
        its operators' phones go with it, as when a PBX shuts down, so it says every call it carries is over.

        Left up, such a call would hold its channel and its operator (on a call, or ringing a phone nobody will
        pick up, then the next one) until the lease reconciler gave up on it, hours later: the simulator sends
        no `call_alive`. Which calls are up is asked of the ACD, not of our own bookkeeping: an interrupt may
        have struck between marking a call ended here and the rollback of its hangup there."""
        if not self.calls:
            return
        refs = list(self.calls)
        up = Call.objects.filter(account_id=self.account_id, ended_at__isnull=True)
        for start in range(0, len(refs), HANG_UP_BATCH):
            for ref in up.filter(engine_ref__in=refs[start:start + HANG_UP_BATCH]).values_list("engine_ref",
                                                                                              flat=True):
                self.calls[ref].ended = True
                self.send(port.Hangup(event_id=self.event_id(), call_ref=ref))
        self._drain()

    def _simulated_operators(self) -> list[tuple[Operator, OperatorGroup]]:
        """The scenario's operators (login = a group's prefix + a number), in id order. Anyone else on the
        account is a person (the demo account's operators at their consoles): the simulation leaves them be."""
        found = []
        for op in Operator.objects.filter(account_id=self.account_id).order_by("id"):
            group = next((g for g in self.scenario.operators
                          if op.login.startswith(g.prefix) and op.login[len(g.prefix):].isdigit()), None)
            if group is not None:
                found.append((op, group))
        return found

    def _log_everyone_off(self) -> None:
        for op, _group in self._simulated_operators():
            if op.state not in _STAYS_AT_LOG_OFF:
                with contextlib.suppress(ActionError):
                    presence.logoff_operator(op.pk)

