"""Benchmark `dialer`: pacing policies on the same pre-drawn lead streams (a discrete-event simulation, no
database). First the harness is checked against dialer-reference.md's progressive and oracle figures; then,
per cell (operators × live-answer rate × channels per operator, 8-hour shift, DAYS days), progressive 1:1,
a replica of VICIdial's tapered adaptive method, a fixed ratio hand-tuned to 3 % mean abandons, ours
(dialer/pacing.py) and the oracle bound.

    make bench-dialer                  # the full grid
    python bench/bench_dialer.py --days 3 --cells 10:0.35:2   # a quick look at one cell
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import write_result
from bench.dialer_policies import FixedRatio, Oracle, Ours, Progressive, VicidialTapered
from bench.dialer_sim import SHIFT_S, Sim, draw_leads

TARGET = 0.03
# dialer-reference.md: (N, p, channels) -> progressive busy %, oracle busy %
REFERENCE = {
    (10, 0.15, 13): (67.1, 88.3), (10, 0.15, 20): (67.1, 98.6),
    (10, 0.35, 13): (83.5, 98.8), (10, 0.35, 20): (83.5, 99.8),
    (25, 0.15, 33): (67.1, 91.1), (25, 0.15, 50): (67.1, 99.3),
    (25, 0.35, 33): (83.6, 99.4), (25, 0.35, 50): (83.6, 99.7),
    (50, 0.15, 65): (67.0, 90.8), (50, 0.15, 100): (67.0, 99.4),
    (50, 0.35, 65): (83.6, 99.4), (50, 0.35, 100): (83.6, 99.6),
}


def day_streams(n_ops: int, p: float, days: int, seed: int):
    # enough leads for the most aggressive policy: at most 20 dials/s, but a day uses far fewer
    per_day = int(n_ops * SHIFT_S / 3.0) + 20000
    return [draw_leads(np.random.default_rng([seed, n_ops, int(p * 100), d]), p, per_day) for d in range(days)]


def run_policy(make_policy, n_ops: int, budget: int, streams) -> dict:
    policy = make_policy()
    days = []
    for leads in streams:
        days.append(Sim(policy, n_ops, budget, leads).run())
    busy = sum(d.busy_s for d in days) / (n_ops * SHIFT_S * len(days))
    talk = sum(d.talk_s for d in days) / 60.0 / (n_ops * SHIFT_S / 3600.0 * len(days))
    rates = [d.abandoned / d.lives if d.lives else 0.0 for d in days]
    lives = sum(d.lives for d in days)
    return {
        "busy_pct": round(100 * busy, 2),
        "talk_min_per_op_hour": round(talk, 2),
        "abandon_mean_pct": round(100 * sum(rates) / len(rates), 3),
        "abandon_max_day_pct": round(100 * max(rates), 3),
        "days_over_3pct_share": round(sum(1 for r in rates if r > TARGET) / len(rates), 3),
        "peak_channels": max(d.peak_channels for d in days),
        "connect_within_2s_pct": round(100 * sum(d.connected_within_2s for d in days)
                                       / max(1, lives - sum(d.abandoned for d in days)), 2),
        "dials_per_op_hour": round(sum(d.dials for d in days) / (n_ops * 8 * len(days)), 1),
    }


def tune_ratio(n_ops: int, budget: int, streams) -> tuple[float, dict]:
    """Bisection on the fixed dial level so that the mean daily abandon rate is at most 3 %."""
    lo, hi = 1.0, 3.0
    best = (1.0, run_policy(lambda: FixedRatio(1.0), n_ops, budget, streams))
    for _ in range(6):
        mid = (lo + hi) / 2
        r = run_policy(lambda m=mid: FixedRatio(m), n_ops, budget, streams)
        if r["abandon_mean_pct"] <= 100 * TARGET:
            lo, best = mid, (mid, r)
        else:
            hi = mid
    return round(best[0], 4), best[1]


def run_cell(args) -> dict:
    n_ops, p, per_op, days, seed = args
    budget = math.ceil(n_ops * per_op - 1e-9)  # 1.3 × 25 = 33 channels, as dialer-reference.md
    streams = day_streams(n_ops, p, days, seed)
    t0 = time.perf_counter()
    out = {"operators": n_ops, "live_rate": p, "channels_per_operator": per_op, "budget": budget}
    out["progressive"] = run_policy(Progressive, n_ops, budget, streams)
    out["vicidial_tapered"] = run_policy(VicidialTapered, n_ops, budget, streams)
    # The earlier replica (brake once a minute), reported beside it: see VicidialTapered's docstring.
    out["vicidial_tapered_60s_brake"] = run_policy(lambda: VicidialTapered(brake_every_update=False), n_ops,
                                                   budget, streams)
    level, tuned = tune_ratio(n_ops, budget, streams)
    out["tuned_ratio"] = {"level": level, **tuned}
    out["ours"] = run_policy(Ours, n_ops, budget, streams)
    out["oracle"] = run_policy(Oracle, n_ops, budget, streams)
    prog, orc, ours = out["progressive"]["busy_pct"], out["oracle"]["busy_pct"], out["ours"]["busy_pct"]
    out["ours_share_of_oracle_gain"] = round((ours - prog) / (orc - prog), 3) if orc > prog else None
    ref = REFERENCE.get((n_ops, p, budget))
    if ref:
        out["reference"] = {"progressive_busy_pct": ref[0], "oracle_busy_pct": ref[1]}
    o = out["ours"]
    checks = {
        "abandon_mean_le_3pct": o["abandon_mean_pct"] <= 100 * TARGET,
        "days_over_lt_5pct": o["days_over_3pct_share"] < 0.05,
        "talk_gt_progressive": o["talk_min_per_op_hour"] > out["progressive"]["talk_min_per_op_hour"],
        "talk_gt_vicidial": o["talk_min_per_op_hour"] > out["vicidial_tapered"]["talk_min_per_op_hour"],
        "talk_gt_tuned_ratio": o["talk_min_per_op_hour"] > out["tuned_ratio"]["talk_min_per_op_hour"],
        "half_the_oracle_gain": (out["ours_share_of_oracle_gain"] or 0) >= 0.5,
        "peak_within_budget": all(out[k]["peak_channels"] <= budget for k in
                                  ("progressive", "vicidial_tapered", "tuned_ratio", "ours", "oracle")),
    }
    out["checks"] = checks
    out["met"] = all(checks.values())
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--cells", default="", help="N:p:channels_per_operator,... (default: the full grid)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    if a.cells:
        cells = [(int(n), float(p), float(c)) for n, p, c in (x.split(":") for x in a.cells.split(","))]
    else:
        cells = [(n, p, c) for n in (10, 25, 50) for p in (0.15, 0.35) for c in (1.3, 2.0)]
    jobs = [(n, p, c, a.days, a.seed) for n, p, c in cells]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=a.workers) as pool:
        results = list(pool.map(run_cell, jobs))
    hdr = (f"{'N':>3} {'p':>4} {'ch':>4} | {'prog':>5} {'vici':>5} {'tuned':>5} {'ours':>5} {'orac':>5} busy% |"
           f" {'prog':>4} {'vici':>4} {'tune':>4} {'ours':>4} talk-min/h | abandons% vici/tuned/ours |"
           f" days>3% v/t/o | gain | peak/budget | ref prog/orac | met")
    print(hdr)
    for r in results:
        P, V, T, O, X = (r[k] for k in ("progressive", "vicidial_tapered", "tuned_ratio", "ours", "oracle"))  # noqa: E741
        peak = max(x["peak_channels"] for x in (P, V, T, O, X))
        ref = r.get("reference", {})
        print(f"{r['operators']:>3} {r['live_rate']:>4} {r['budget']:>4} | {P['busy_pct']:>5.1f} {V['busy_pct']:>5.1f}"
              f" {T['busy_pct']:>5.1f} {O['busy_pct']:>5.1f} {X['busy_pct']:>5.1f}       |"
              f" {P['talk_min_per_op_hour']:>4.1f} {V['talk_min_per_op_hour']:>4.1f}"
              f" {T['talk_min_per_op_hour']:>4.1f} {O['talk_min_per_op_hour']:>4.1f}            |"
              f" {V['abandon_mean_pct']:>4.2f}/{T['abandon_mean_pct']:>4.2f}/{O['abandon_mean_pct']:>4.2f}"
              f" (L={T['level']:.2f}) | {V['days_over_3pct_share']:.1f}/{T['days_over_3pct_share']:.1f}/"
              f"{O['days_over_3pct_share']:.2f} | {r['ours_share_of_oracle_gain']} |"
              f" {peak}"
              f"/{r['budget']} | {ref.get('progressive_busy_pct', '-')}/{ref.get('oracle_busy_pct', '-')} |"
              f" {'yes' if r['met'] else 'NO: ' + ','.join(k for k, v in r['checks'].items() if not v)}")
    for r in results:
        V0 = r["vicidial_tapered_60s_brake"]
        print(f"{r['operators']:>3} {r['live_rate']:>4} {r['budget']:>4} |"
              " earlier VICIdial replica (brake once a minute):"
              f" busy {V0['busy_pct']:.1f} %, talk {V0['talk_min_per_op_hour']:.1f} min/h, abandons"
              f" {V0['abandon_mean_pct']:.2f} %, days over 3 % {V0['days_over_3pct_share']:.1f}")
    met = all(r["met"] for r in results)
    n_met = sum(r["met"] for r in results)
    elapsed = round(time.perf_counter() - t0, 1)
    if not a.no_write:
        write_result(
            "dialer",
            figures={"days_per_cell": a.days, "seed": a.seed, "seconds": elapsed, "cells": results},
            targets={"abandon_mean_pct_max": 3.0, "days_over_3pct_share_lt": 0.05,
                     "talk_more_than": ["progressive", "vicidial_tapered", "tuned_ratio"],
                     "share_of_oracle_gain_min": 0.5, "peak_channels_max": "budget"},
            met=met, summary=f"{n_met}/{len(results)} cells meet every target ({elapsed} s)")
    else:
        print(f"{n_met}/{len(results)} cells met ({elapsed} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
