"""Predictive pacing: how many calls a campaign places now. Pure Python (no Django, no I/O), so the same
code paces a real campaign (dialer/tasks.py builds a FloorState from the database) and the benchmark's
discrete-event simulation (bench/bench_dialer.py builds it from the simulated floor).

Why this shape: VICIdial's controller looks only at the imbalance of idle agents and waiting calls and
treats the abandon limit as a day-level switch. Here each placement decision is a small risk budget:

- supply: operators free now, operators whose wrap-up ends within the horizon (known exactly) and,
  for each operator talking, the probability that the call ends in time (from the measured handle-time
  distribution, conditional on how long it has lasted already);
- demand: live calls already waiting, plus each call still ringing weighted by the probability that a
  call still unresolved at its age turns out live (measured: busy and machine calls resolve early, no
  answers late);
- one more call is placed only while the probability that it, if live, finds no operator stays under a
  threshold; the estimation loop moves the threshold so that the abandon rate of the window so far stays
  under a set point below the legal target (margin for the day-to-day spread);
- the channel budget headroom (after the inbound reserve) and the calls-per-tick cap bound everything:
  a call that would hit REACH_PLAN_LIMIT is never asked for.

Small teams or a budget with no room above one channel per operator fall back to progressive (one call per
operator about to be free, none per expected live answer), by themselves.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

# Below this many operators the statistics of a handful of calls in flight cannot keep abandons under a few
# per cent: progressive.
MIN_PREDICTIVE_OPERATORS = 5
# A channel budget under this many channels per operator leaves no room for over-dialing.
MIN_PREDICTIVE_CHANNELS_PER_OPERATOR = 1.1
# Seconds a live call may wait for an operator (the 2-second rule).
CONNECT_WITHIN_S = 2.0
AGE_TABLE_S = 60  # ages (s) of a ringing call for which P(live | still unresolved) is tabulated
THRESHOLD_MIN, THRESHOLD_MAX = 0.002, 0.6


GRID = 8  # the ring-to-answer distribution is read at the quantiles (k + 0.5) / GRID


def _uniform_quantiles(lo: float, hi: float) -> tuple[float, ...]:
    return tuple(lo + (hi - lo) * (k + 0.5) / GRID for k in range(GRID))


@dataclass(frozen=True)
class Estimates:
    """What the estimation loop measured (or the priors, before enough calls)."""

    live_rate: float = 0.25                 # live answers per dial
    ring_quantiles: tuple[float, ...] = _uniform_quantiles(4.0, 16.0)  # live ring-to-answer, s
    talk_mean_s: float = 180.0
    talk_cv: float = 1.0
    wrap_s: float = 15.0
    # answer_by[k][a]: P(live and answered within ring_quantiles[k] more seconds | unresolved at age a s);
    # empty: from live_rate alone (no history yet).
    answer_by: tuple[tuple[float, ...], ...] = ()

    @property
    def ring_to_answer_s(self) -> float:
        return sum(self.ring_quantiles) / len(self.ring_quantiles)

    def live_answer_within(self, k: int, age_s: float) -> float:
        if not self.answer_by:
            tau = self.ring_quantiles[k]
            lo = min(self.ring_quantiles)
            return self.live_rate * (1.0 if age_s + tau >= lo else 0.5)
        row = self.answer_by[k]
        return row[max(0, min(int(age_s), len(row) - 1))]


@dataclass(frozen=True)
class Control:
    """The feedback state carried between placement ticks (the estimation loop updates it)."""

    threshold: float = 0.12   # the largest acceptable P(no operator) for one more call


@dataclass(frozen=True)
class FloorState:
    """The campaign's floor at one instant, as the placement loop sees it."""

    operators: int                                   # logged in, not paused, serving the campaign
    free: int                                        # available now and not reserved by a waiting call
    wrap_remaining_s: Sequence[float] = ()           # per operator in wrap-up: seconds left
    talk_elapsed_s: Sequence[float] = ()             # per operator on a call: seconds so far
    ringing_age_s: Sequence[float] = ()              # per dial not yet resolved: seconds since dialed
    waiting_live: int = 0                            # answered live calls waiting for an operator
    channels_free: int = 0                           # budget headroom for this campaign (after reserve)
    max_dial_ratio: float = 3.0                      # cap: calls in flight per operator
    max_calls: int = 20                              # per tick (calls-per-second cap)


@dataclass(frozen=True)
class Decision:
    calls: int
    mode: str  # "predictive" or "progressive"
    expected_supply: float = 0.0
    expected_demand: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


@lru_cache(maxsize=64)
def _talk_cdf_table(mean_s: float, cv: float, horizon_s: int) -> tuple[float, ...]:
    """P(a call that has lasted e seconds ends within horizon_s more), for e = 0..7200 (lognormal)."""
    sigma2 = math.log(1.0 + cv * cv)
    sigma = math.sqrt(sigma2)
    mu = math.log(mean_s) - sigma2 / 2.0

    def cdf(x: float) -> float:
        if x <= 0:
            return 0.0
        return _phi((math.log(x) - mu) / sigma)

    out = []
    for e in range(7201):
        surv = 1.0 - cdf(e)
        if surv <= 1e-9:
            out.append(1.0)
            continue
        out.append(max(0.0, min(1.0, (cdf(e + horizon_s) - cdf(e)) / surv)))
    return tuple(out)


def _talk_ends(state: FloorState, est: Estimates, within_s: float) -> tuple[float, float]:
    """Expected operators on a call who are free (call ended and wrap-up done) within within_s, and the
    variance of that count, from the handle-time distribution conditional on each call's age."""
    window = round(within_s - est.wrap_s)
    if window <= 0 or not state.talk_elapsed_s:
        return 0.0, 0.0
    table = _talk_cdf_table(round(est.talk_mean_s, 0), round(est.talk_cv, 2), window)
    last = len(table) - 1
    mean = var = 0.0
    for e in state.talk_elapsed_s:
        q = table[min(int(e), last)]
        mean += q
        var += q * (1.0 - q)
    return mean, var


def outlook(state: FloorState, est: Estimates) -> list[tuple[float, float, float]]:
    """For each ring-to-answer quantile tau_k: (operators free by tau_k + 2 s minus live calls answered before
    tau_k from the calls already placed, its variance, P(a new call is live and answered by tau_k)). A new
    live call answered at tau_k finds an operator when the first term, less the new calls ahead of it,
    stays at least 1."""
    rows = []
    for k, tau in enumerate(est.ring_quantiles):
        by = tau + CONNECT_WITHIN_S
        sup = float(state.free) + sum(1.0 for w in state.wrap_remaining_s if w <= by)
        t_mean, t_var = _talk_ends(state, est, by)
        dem = float(state.waiting_live)
        d_var = 0.0
        for age in state.ringing_age_s:
            q = est.live_answer_within(k, age)
            dem += q
            d_var += q * (1.0 - q)
        rows.append((sup + t_mean - dem, t_var + d_var, est.live_rate * (k + 0.5) / GRID))
    return rows


def predictive_allowed(state: FloorState, channel_budget: int) -> bool:
    return (state.operators >= MIN_PREDICTIVE_OPERATORS
            and channel_budget >= MIN_PREDICTIVE_CHANNELS_PER_OPERATOR * state.operators)


def progressive_calls(state: FloorState) -> int:
    """One call per free operator not already covered by a call in flight."""
    want = state.free - state.waiting_live - len(state.ringing_age_s)
    return max(0, min(want, state.channels_free, state.max_calls))


def calls_to_place(state: FloorState, est: Estimates, control: Control, *, channel_budget: int) -> Decision:
    """How many calls to place now. channel_budget: the campaign's share of the account's limit (after the
    inbound reserve), used to decide whether predictive dialing has room at all."""
    if not predictive_allowed(state, channel_budget):
        return Decision(progressive_calls(state), "progressive", notes=("small team or budget",))
    rows = outlook(state, est)
    in_flight = len(state.ringing_age_s) + state.waiting_live
    cap = min(state.channels_free, state.max_calls,
              max(0, int(state.max_dial_ratio * state.operators) - in_flight))
    n = 0
    while n < cap:
        # The (n+1)-th call, if live and answered at tau_k, finds no operator when the live calls ahead of
        # it (placed before, and the n new ones answered earlier) use up the operators free by then.
        risk = 0.0
        for margin, var, ahead in rows:
            mu = margin - n * ahead
            sigma = math.sqrt(max(var + n * ahead * (1.0 - ahead), 0.09))
            risk += _phi((0.5 - mu) / sigma)
        if risk / len(rows) > control.threshold:
            break
        n += 1
    expected = rows[-1][0] if rows else 0.0
    return Decision(n, "predictive", expected_supply=expected)


def aim(target: float, expected_window_lives: float) -> float:
    """The abandon rate to aim at so that the window's rate stays under the target nearly always: the
    target less about two standard deviations of a window's rate (abandons cluster, hence 2.2 rather than
    the binomial's 1.65). Small teams get a lower aim; never below half the target."""
    n = max(expected_window_lives, 1.0)
    spread = math.sqrt(target * (1.0 - target) / n)
    return max(0.5 * target, target - 2.2 * spread)


def update_control(control: Control, *, window_live: int, window_abandoned: int, target: float,
                   recent_live: int, recent_abandoned: int, expected_window_lives: float) -> Control:
    """The estimation loop's feedback: move the risk threshold so that the window's abandon rate stays under
    aim(); both the window so far (what the law counts) and the recent calls (what the current threshold
    produces) pull, and a window already over the aim brakes harder."""
    goal = aim(target, expected_window_lives)
    prior = 200.0  # pseudo-calls at the aim: a young window does not swing the threshold
    window_rate = (window_abandoned + goal * prior) / (window_live + prior)
    recent_rate = (recent_abandoned + goal * 50.0) / (recent_live + 50.0)
    err = (goal - 0.5 * (window_rate + recent_rate)) / goal
    step = 0.25 * max(-1.0, min(1.0, err))
    if window_rate > goal:
        step -= 0.25 * min(1.0, (window_rate - goal) / goal)
    threshold = control.threshold * math.exp(step)
    return replace(control, threshold=max(THRESHOLD_MIN, min(THRESHOLD_MAX, threshold)))


def expected_window_lives(operators: int, window_hours: float, est: Estimates, busy_share: float = 0.85) -> float:
    """Roughly how many live calls a window holds: operators' busy time over the handle time."""
    return operators * window_hours * 3600.0 * busy_share / max(est.talk_mean_s + est.wrap_s, 1.0)


@dataclass(frozen=True)
class Resolved:
    """One finished dial as the estimator sees it: seconds from dial to resolution (answer for a live
    call, hang-up or AMD verdict otherwise) and whether it was live."""

    resolved_after_s: float
    live: bool


def estimate(history: Sequence[Resolved], talks: Sequence[float], prior: Estimates = Estimates(), *,
             wrap_s: float | None = None, prior_weight: float = 50.0) -> Estimates:
    """The estimation loop: live-answer rate, ring-to-answer quantiles, the handle-time distribution and the
    table of P(live and answered within tau | unresolved at age a), from recent finished dials and talk
    times, shrunk towards the prior when few."""
    n = len(history)
    ring = sorted(h.resolved_after_s for h in history if h.live)
    live_rate = (len(ring) + prior.live_rate * prior_weight) / (n + prior_weight)
    quantiles = prior.ring_quantiles
    if len(ring) >= 30:
        quantiles = tuple(ring[min(len(ring) - 1, int((k + 0.5) / GRID * len(ring)))] for k in range(GRID))
    talks = [t for t in talks if t > 0]
    if len(talks) >= 30:
        m = sum(talks) / len(talks)
        var = sum((t - m) ** 2 for t in talks) / (len(talks) - 1)
        talk_mean, talk_cv = m, max(0.2, min(3.0, math.sqrt(var) / m))
    else:
        talk_mean, talk_cv = prior.talk_mean_s, prior.talk_cv
    table: tuple[tuple[float, ...], ...] = ()
    if n >= 200 and len(ring) >= 30:
        other = sorted(h.resolved_after_s for h in history if not h.live)
        rows = []
        for tau in quantiles:
            row = []
            for age in range(AGE_TABLE_S + 1):
                lives_left = len(ring) - bisect_right(ring, age)
                unresolved = lives_left + len(other) - bisect_right(other, age)
                answered = bisect_right(ring, age + tau) - bisect_right(ring, age)
                row.append((answered + live_rate * tau / 20.0) / (unresolved + 1.0))
            rows.append(tuple(row))
        table = tuple(rows)
    return Estimates(live_rate=live_rate, ring_quantiles=quantiles, talk_mean_s=talk_mean, talk_cv=talk_cv,
                     wrap_s=prior.wrap_s if wrap_s is None else wrap_s, answer_by=table)
