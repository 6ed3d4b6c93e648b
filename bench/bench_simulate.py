"""Benchmark `simulate`: a full simulated day of `center-50` and of `center-500`, at `--speed max`.

Targets (issue 9): a full day of center-50 in ≤ 60 s and of center-500 in ≤ 600 s of wall time. The
figures are the wall seconds, the event loop's items per second and the events sent to the ACD per second.
Beside them, in the same run, the machine's baseline: a bare single-row UPDATE+commit on the same database
(measured before and after each scenario, the median kept), so that a figure taken on a loaded machine can
be read as "so many bare transactions' worth per event".

`BENCH_SIM_HOURS_50` / `BENCH_SIM_HOURS_500` shorten a run while iterating (the scenario's own hours by
default: a full day). A shortened run is reported with the hours it simulated and never counts as met; it
also gives an estimate of the full day from its pace per call and the day's expected calls.
`BENCH_SIM_FROM_50` / `BENCH_SIM_FROM_500` (a local hour, 0-23) start a shortened run at that hour of the
scenario's day instead of its beginning: center-500's day begins at midnight, whose quiet half hour (no queue,
every operator free) says little about the busy hours that carry most of its 100,000 calls.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import ROOT, fresh_django, write_result

fresh_django("simulate")

from django.db import connection, transaction  # noqa: E402

from simulator.run import simulate  # noqa: E402
from simulator.scenario import load  # noqa: E402

TARGETS = {"center-50": 60.0, "center-500": 600.0}
HOURS = {"center-50": os.environ.get("BENCH_SIM_HOURS_50"), "center-500": os.environ.get("BENCH_SIM_HOURS_500")}
FROM = {"center-50": os.environ.get("BENCH_SIM_FROM_50"), "center-500": os.environ.get("BENCH_SIM_FROM_500")}
BARE_N = int(os.environ.get("BENCH_BARE", "1000"))


def bare_update_rate(n: int) -> float:
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_counter (id int PRIMARY KEY, n bigint)")
        cur.execute("INSERT INTO bench_counter VALUES (1, 0) ON CONFLICT DO NOTHING")
    started = time.perf_counter()
    for _ in range(n):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("UPDATE bench_counter SET n = n + 1 WHERE id = 1")
    return n / (time.perf_counter() - started)


def expected_calls(scenario, hours: float) -> float:
    """Calls the scenario's arrival rates give over `hours` from its start (local hours of the day)."""
    start_hour = scenario.start.hour
    total = 0.0
    for arrival in scenario.arrivals:
        whole, part = int(hours), hours - int(hours)
        total += sum(arrival.per_hour[(start_hour + h) % 24] for h in range(whole))
        total += part * arrival.per_hour[(start_hour + whole) % 24]
    return total


def run(name: str) -> dict:
    day = load(ROOT / "scenarios" / f"{name}.yaml")
    hours = float(HOURS[name]) if HOURS[name] else day.hours
    # A shortened run may start later in the day (its arrivals follow the hour-of-day rates from there).
    scenario = dataclasses.replace(day, start=day.start.replace(hour=int(FROM[name]))) \
        if FROM[name] and hours < day.hours else day
    bare_before = bare_update_rate(BARE_N)
    started = time.perf_counter()
    report = simulate(scenario, hours=hours)
    wall = time.perf_counter() - started
    bare_after = bare_update_rate(BARE_N)
    bare = statistics.median([bare_before, bare_after])
    r = report["run"]
    loop = max(1e-3, r["wall_seconds"] - r["prepare_seconds"])  # the day itself, without logging operators in
    full_day = hours >= day.hours
    figures = {
        "simulated_hours": hours, "from_local_hour": scenario.start.hour, "full_day": full_day,
        "wall_seconds": round(wall, 1),
        "calls": report["totals"]["calls"], "answered": report["totals"]["answered"],
        "loop_events": r["events"], "port_events": r["port_events"],
        "engine_seconds": r["wall_seconds"], "prepare_seconds": r["prepare_seconds"],
        "loop_events_per_s": round(r["events"] / loop, 1), "port_events_per_s": round(r["port_events"] / loop, 1),
        "bare_update_commit_per_s": round(bare, 1),
        "bare_transactions_per_port_event": round(bare / (r["port_events"] / loop), 1),
    }
    if not full_day:  # the day's wall time at this run's pace per call (the setup counted once)
        day_calls = expected_calls(day, day.hours)
        run_calls = max(1, report["totals"]["calls"])
        figures["full_day_estimate_seconds"] = round(wall - loop + loop * day_calls / run_calls, 0)
    return figures


def main() -> None:
    figures = {name: run(name) for name in TARGETS}
    met = all(f["full_day"] and f["wall_seconds"] <= TARGETS[n] for n, f in figures.items())
    targets = {f"{n}_full_day_wall_seconds_max": t for n, t in TARGETS.items()}
    summary = "; ".join(
        f"{n}: {f['simulated_hours']} h in {f['wall_seconds']} s (target {TARGETS[n]:.0f} s for a full day"
        + ("" if f["full_day"] else f", estimate {f['full_day_estimate_seconds']:.0f} s from {f['from_local_hour']}:00")
        + f"), {f['port_events_per_s']} ACD events/s, bare UPDATE+commit {f['bare_update_commit_per_s']}/s"
        for n, f in figures.items())
    write_result("simulate", figures, targets, met, summary)


if __name__ == "__main__":
    main()
