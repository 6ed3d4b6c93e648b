"""The pacing policies the dialer benchmark compares, each reading the simulated floor (bench/dialer_sim.py)."""

from __future__ import annotations

from dialer import pacing

from .dialer_sim import CPS, SHIFT_S, WAIT_S, WRAP_S, Floor, unbound_free


class Progressive:
    """One call per free operator not already covered by a call in flight (1:1)."""

    name = "progressive"
    tick_s = 1.0

    def start_day(self, f: Floor) -> None:
        pass

    def decide(self, f: Floor):
        return max(0, len(f.free_ops) - len(f.ringing) - len(f.waiting)), None


class FixedRatio:
    """A fixed dial ratio, VICIdial's placement with adaptive dialing off and its "available only" option:
    goal = round(L × ready agents); make = goal − calls ringing or queued for an agent; every 2.5 s.
    (Counting every agent, as the adaptive method does, over-dials at any L ≥ 1 during wrap-ups.)"""

    name = "fixed"
    tick_s = 2.5

    def __init__(self, level: float):
        self.level = level

    def start_day(self, f: Floor) -> None:
        pass

    def decide(self, f: Floor):
        goal = round(self.level * len(f.free_ops))
        exist = len(f.ringing) + len(f.waiting)
        return max(0, min(goal - exist, int(CPS * self.tick_s))), None


class VicidialTapered(FixedRatio):
    """A replica of VICIdial's adaptive method (dialer-reference.md), TAPERED drop-limit variant: the dial
    level from 1-second samples of ready agents and waiting calls every 15 s, the panic brake, today's drop
    rate recomputed every 60 s after 50 calls.

    The reference lists the drop-limit rule among the steps of the 15-s dial-level update: the day's drop
    rate is *recomputed* every 60 s, and every level update that sees it over the limit tapers the level.
    An earlier version of this replica (`brake_every_update=False`, kept for comparison) tapered only once
    per 60-s recomputation, between four 15-s rises, so the rises outran the brake and its days ended at
    8-35 % abandons at 10 operators, not "just above 3 %" as the reference observes of the method."""

    name = "vicidial"
    sample_every = 1.0

    def __init__(self, target_diff: float = 0.0, drop_limit: float = 0.03, brake_every_update: bool = True):
        super().__init__(1.0)
        self.target_diff = target_diff
        self.drop_limit = drop_limit
        self.brake_every_update = brake_every_update

    def decide(self, f: Floor):
        # agents: logged in and not paused: ready, talking or with a queued call (in wrap-up: neither)
        agents = len(f.free_ops) + len(f.talk_start)
        goal = round(self.level * agents)
        exist = len(f.ringing) + len(f.waiting) + len(f.talk_start)
        return max(0, min(goal - exist, int(CPS * self.tick_s))), None

    def start_day(self, f: Floor) -> None:
        self.level = 1.0
        self.samples: list[tuple[int, int, int]] = []
        self.last_level_at = 0.0
        self.last_drop_at = 0.0
        self.minute: list[tuple[float, int, int]] = []  # (t, lives so far, abandons so far)
        self.drop_rate: float | None = None  # today's, as last recomputed (None before 50 live calls)

    def sample(self, f: Floor) -> None:
        self.samples.append((len(f.free_ops), len(f.waiting), len(f.free_ops) + len(f.talk_start)))
        self.samples = self.samples[-15:]
        self.minute.append((f.now, f.window_lives, f.window_abandoned))
        while self.minute and self.minute[0][0] < f.now - 60:
            self.minute.pop(0)
        if f.now - self.last_level_at >= 15 and self.samples:
            self.last_level_at = f.now
            k = len(self.samples)
            ready = sum(s[0] for s in self.samples) / k
            waiting = sum(s[1] for s in self.samples) / k
            agents = sum(s[2] for s in self.samples) / k
            m = (ready - waiting + self.target_diff) / max(agents, 1.0)
            self.level = max(1.0, min(3.0, self.level * (1 + m)))
            lives_min = f.window_lives - self.minute[0][1]
            drops_min = f.window_abandoned - self.minute[0][2]
            if lives_min > 20 and drops_min > 0.5 * lives_min:
                self.level = max(1.0, self.level / 2)
            if self.brake_every_update:
                self._taper(f)
        if f.now - self.last_drop_at >= 60:
            self.last_drop_at = f.now
            self.drop_rate = f.window_abandoned / f.window_lives if f.window_lives >= 50 else None
            if not self.brake_every_update:
                self._taper(f)

    def _taper(self, f: Floor) -> None:
        """TAPERED: over the limit, the level is multiplied by min(1, hours left / 10)."""
        if self.drop_rate is not None and self.drop_rate > self.drop_limit:
            hours_left = max(0.0, (SHIFT_S - f.now) / 3600)
            self.level = max(1.0, self.level * min(1.0, hours_left / 10))


class Ours:
    """dialer/pacing.py, fed as the Celery loops feed it: the floor every second, estimates every 15 s."""

    name = "ours"
    tick_s = 1.0

    def __init__(self, target: float = 0.03):
        self.target = target
        self.est = pacing.Estimates(live_rate=0.25, wrap_s=WRAP_S)
        self.control = pacing.Control()

    def start_day(self, f: Floor) -> None:
        self.last_est = -1e9  # the campaign's estimates and threshold persist across days; the window is new

    def decide(self, f: Floor):
        now = f.now
        if now - self.last_est >= 15:
            self.last_est = now
            hist = [pacing.Resolved(a, live) for a, live in f.history]
            self.est = pacing.estimate(hist, list(f.talks), self.est, wrap_s=WRAP_S)
            recent = list(f.recent)[-300:]
            self.control = pacing.update_control(
                self.control, window_live=f.window_lives, window_abandoned=f.window_abandoned,
                target=self.target, recent_live=len(recent), recent_abandoned=sum(recent),
                expected_window_lives=pacing.expected_window_lives(f.n_ops, SHIFT_S / 3600, self.est))
        state = pacing.FloorState(
            operators=f.n_ops, free=len(f.free_ops),
            wrap_remaining_s=[e - now for e in f.wrap_end.values()],
            talk_elapsed_s=[now - s for s in f.talk_start.values()],
            ringing_age_s=[now - d for d in f.ringing.values()],
            waiting_live=len(f.waiting), channels_free=f.budget - f.channels - f.pending_dials,
            max_dial_ratio=3.0, max_calls=int(CPS * self.tick_s))
        return pacing.calls_to_place(state, self.est, self.control, channel_budget=f.budget).calls, None


class Oracle:
    """Knows the lead stream (each lead's outcome, ring-to-answer and talk time) and every operator's free
    time: dials a live lead so that it is answered just as its operator frees (the caller waiting at most 2 s),
    failed leads whenever a channel is free, in the stream's order. No real dialer can pass it."""

    name = "oracle"
    tick_s = 1.0

    def start_day(self, f: Floor) -> None:
        self.op_free = [0.0] * f.n_ops

    def decide(self, f: Floor):
        leads = f.leads
        binds: list = []
        room = f.budget - f.channels - f.pending_dials
        k = 0
        while k < min(room, int(CPS * self.tick_s)):
            i = f.next_lead + k
            if leads.outcome[i] != 0:
                binds.append(None)
                k += 1
                continue
            answer_at = f.now + k / CPS + float(leads.ring[i])
            j = min(range(f.n_ops), key=self.op_free.__getitem__)
            if self.op_free[j] > answer_at + WAIT_S - 1e-6:
                break
            self.op_free[j] = max(self.op_free[j], answer_at) + float(leads.talk[i]) + WRAP_S
            f.reserved_ops.add(j)
            binds.append(j)
            k += 1
        return k, binds


__all__ = ["FixedRatio", "Oracle", "Ours", "Progressive", "VicidialTapered", "unbound_free"]
