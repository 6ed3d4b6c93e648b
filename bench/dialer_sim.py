"""A discrete-event simulation of one outbound shift, for comparing pacing policies fairly.

The assumptions are dialer-reference.md's: N operators for 8 hours; talk lognormal mean 180 s, CV 1.0;
wrap 15 s; live answer with probability p, the rest 50 % no answer (rings 20 s), 20 % busy (ends after
3 s), 30 % machine (AMD hangs up 3 s after pick-up); ring-to-answer U(5, 15) s; a live call waits at most
2 s for an operator, else an 8 s safe-harbor message and hang-up (abandoned); a channel is held from dial
to hang-up; 20 calls/s. Every policy reads the SAME pre-drawn lead stream of a day (each lead carries its
outcome, ring time, talk time), so differences are pacing only.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

SHIFT_S = 8 * 3600
WRAP_S = 15.0
NO_ANSWER_S = 20.0
BUSY_S = 3.0
AMD_S = 3.0
WAIT_S = 2.0
SAFE_HARBOR_S = 8.0
CPS = 20.0

LIVE, NO_ANSWER, BUSY, MACHINE = 0, 1, 2, 3


@dataclass
class Leads:
    outcome: np.ndarray
    ring: np.ndarray
    talk: np.ndarray

    def resolve_after(self, i: int) -> float:
        o = self.outcome[i]
        if o == LIVE:
            return float(self.ring[i])
        if o == NO_ANSWER:
            return NO_ANSWER_S
        if o == BUSY:
            return BUSY_S
        return float(self.ring[i]) + AMD_S


def draw_leads(rng: np.random.Generator, p: float, n: int) -> Leads:
    u = rng.random(n)
    rest = (u - p) / (1 - p)
    outcome = np.where(u < p, LIVE, np.where(rest < 0.5, NO_ANSWER, np.where(rest < 0.7, BUSY, MACHINE)))
    ring = rng.uniform(5.0, 15.0, n)
    sigma2 = math.log(1 + 1.0 ** 2)
    talk = rng.lognormal(math.log(180.0) - sigma2 / 2, math.sqrt(sigma2), n)
    return Leads(outcome.astype(np.int8), ring, talk)


@dataclass
class DayResult:
    busy_s: float = 0.0
    talk_s: float = 0.0
    lives: int = 0
    abandoned: int = 0
    dials: int = 0
    peak_channels: int = 0
    connected_within_2s: int = 0


# event kinds
TICK, SAMPLE, DIAL, ANSWER, GIVE_UP, RELEASE, TALK_END, WRAP_END = range(8)


@dataclass
class Floor:
    """The simulated floor. Policies read it (never write it) through the attributes below."""

    n_ops: int
    budget: int
    leads: Leads
    now: float = 0.0
    next_lead: int = 0
    channels: int = 0
    free_ops: list = field(default_factory=list)           # operator ids, free and unreserved
    talk_start: dict = field(default_factory=dict)         # op -> talk start
    wrap_end: dict = field(default_factory=dict)           # op -> wrap end
    ringing: dict = field(default_factory=dict)            # dial id -> dial time (unresolved)
    waiting: deque = field(default_factory=deque)          # (dial id, lead) live, waiting for an operator
    assigned: dict = field(default_factory=dict)           # op -> (dial id, lead) waiting for that op (oracle)
    reserved_ops: set = field(default_factory=set)         # ops an oracle call is bound to
    history: deque = field(default_factory=lambda: deque(maxlen=3000))  # (resolved_after, live)
    talks: deque = field(default_factory=lambda: deque(maxlen=500))     # finished talk times
    window_lives: int = 0
    window_abandoned: int = 0
    recent: deque = field(default_factory=lambda: deque(maxlen=600))   # 1 per live: abandoned?
    pending_dials: int = 0


class Sim:
    def __init__(self, policy, n_ops: int, budget: int, leads: Leads):
        self.f = Floor(n_ops=n_ops, budget=budget, leads=leads, free_ops=list(range(n_ops)))
        self.policy = policy
        self.q: list = []
        self.seq = 0
        self.res = DayResult()
        self.dial_lead: dict = {}
        self.dial_op: dict = {}   # oracle binding: dial id -> op

    def push(self, t: float, kind: int, a=None, b=None) -> None:
        self.seq += 1
        heapq.heappush(self.q, (t, self.seq, kind, a, b))

    def run(self) -> DayResult:
        self.push(0.0, TICK)
        if getattr(self.policy, "sample_every", None):
            self.push(0.0, SAMPLE)
        self.policy.start_day(self.f)
        f = self.f
        while self.q:
            t, _, kind, a, _b = heapq.heappop(self.q)
            if t >= SHIFT_S and kind in (TICK, SAMPLE, DIAL):
                continue
            f.now = t
            if kind == TICK:
                n, binds = self.policy.decide(f)
                n = min(n, f.budget - f.channels - f.pending_dials)
                for k in range(max(0, n)):
                    self.push(t + k / CPS, DIAL, binds[k] if binds else None)
                f.pending_dials += max(0, n)
                self.push(t + self.policy.tick_s, TICK)
            elif kind == SAMPLE:
                self.policy.sample(f)
                self.push(t + self.policy.sample_every, SAMPLE)
            elif kind == DIAL:
                f.pending_dials -= 1
                self._dial(t, a)
            elif kind == ANSWER:
                self._answer(t, a)
            elif kind == GIVE_UP:
                self._give_up(t, a)
            elif kind == RELEASE:
                f.channels -= 1
            elif kind == TALK_END:
                f.channels -= 1
                f.talks.append(t - f.talk_start.pop(a))
                f.wrap_end[a] = t + WRAP_S
                self.push(t + WRAP_S, WRAP_END, a)
            elif kind == WRAP_END:
                del f.wrap_end[a]
                self._op_free(t, a)
        return self.res

    # -- the call path -----------------------------------------------------------------------------------
    def _dial(self, t: float, op) -> None:
        f = self.f
        if f.channels >= f.budget:  # never: the tick cut n to the headroom; kept as the budget's own guard
            raise AssertionError("a dial over the channel budget")
        i = f.next_lead
        f.next_lead += 1
        if i >= len(f.leads.outcome):
            raise RuntimeError("lead stream exhausted")
        f.channels += 1
        self.res.dials += 1
        self.res.peak_channels = max(self.res.peak_channels, f.channels)
        did = i
        f.ringing[did] = t
        self.dial_lead[did] = i
        if op is not None:
            self.dial_op[did] = op
        o = f.leads.outcome[i]
        after = f.leads.resolve_after(i)
        if o == LIVE:
            self.push(t + after, ANSWER, did)
        else:  # the floor learns of a failed dial only when it resolves: "ringing" until then
            self.push(t + after, RELEASE)
            self.push(t + after, GIVE_UP, -did - 1)

    def _answer(self, t: float, did: int) -> None:
        f = self.f
        del f.ringing[did]
        i = self.dial_lead[did]
        f.history.append((float(f.leads.ring[i]), True))
        if t < SHIFT_S:
            self.res.lives += 1
            f.window_lives += 1
        op = self.dial_op.pop(did, None)
        if op is not None:
            if op in f.talk_start or op in f.wrap_end:
                f.assigned[op] = (did, i, t)
                self.push(t + WAIT_S, GIVE_UP, did)
                return
            f.reserved_ops.discard(op)
            f.free_ops.remove(op)
            self._connect(t, op, i, t)
            return
        if f.free_ops:
            op = f.free_ops.pop(0)
            self._connect(t, op, i, t)
            return
        f.waiting.append((did, i, t))
        self.push(t + WAIT_S, GIVE_UP, did)

    def _give_up(self, t: float, did: int) -> None:
        f = self.f
        if did < 0:  # a failed dial resolving
            did = -did - 1
            f.history.append((t - f.ringing.pop(did), False))
            return
        for k, (w, _i, _at) in enumerate(f.waiting):
            if w == did:
                del f.waiting[k]
                self._abandon(t)
                return
        for op, (w, _i, _at) in list(f.assigned.items()):
            if w == did:
                del f.assigned[op]
                f.reserved_ops.discard(op)
                self._abandon(t)
                return

    def _abandon(self, t: float) -> None:
        f = self.f
        if t - WAIT_S < SHIFT_S:
            self.res.abandoned += 1
            f.window_abandoned += 1
        f.recent.append(1)
        self.push(t + SAFE_HARBOR_S, RELEASE)

    def _connect(self, t: float, op: int, i: int, answered_at: float) -> None:
        f = self.f
        f.recent.append(0)
        if t - answered_at <= WAIT_S:
            self.res.connected_within_2s += 1
        talk = float(f.leads.talk[i])
        f.talk_start[op] = t
        self.push(t + talk, TALK_END, op)
        end = min(t + talk + WRAP_S, SHIFT_S)
        self.res.busy_s += max(0.0, end - min(t, SHIFT_S))
        self.res.talk_s += max(0.0, min(t + talk, SHIFT_S) - min(t, SHIFT_S))

    def _op_free(self, t: float, op: int) -> None:
        f = self.f
        if op in f.assigned:
            _did, i, at = f.assigned.pop(op)
            f.reserved_ops.discard(op)
            self._connect(t, op, i, at)
            return
        if op in f.reserved_ops:
            f.free_ops.append(op)  # free, but bound to an oracle call still ringing
            return
        if f.waiting:
            _did, i, at = f.waiting.popleft()
            self._connect(t, op, i, at)
            return
        f.free_ops.append(op)


def unbound_free(f: Floor) -> int:
    return len([o for o in f.free_ops if o not in f.reserved_ops]) if f.reserved_ops else len(f.free_ops)
