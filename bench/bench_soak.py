"""Benchmark `soak` (issue 11): the production layout for `BENCH_SOAK_SECONDS` (900 by default) in real time.

Processes, each the Procfile's own command: two web processes (one port each, production settings, the webhook
backend), two Celery workers and beat, all on one PostgreSQL and Redis. The load, in real time and at once:
- the 50-operator scenario (`scenarios/center-50.yaml`, `manage.py simulate --speed realtime`) on its account,
  stopped as by Ctrl-C when the soak ends (the simulator then hangs up the calls it still carries and logs its
  operators off, as a PBX shutting down drops its calls);
- two webhook engines (bench/webhook_engine.py), one per web process, each driving whole signed calls on a
  second account (incoming → ringing → answered → hangup), one every `BENCH_SOAK_CALL_INTERVAL` seconds.
In real time the scenario's arrivals follow the wall clock's hour of day in its time zone, and center-50 is closed
from 18:00 to 08:00: a soak run in the evening placed no simulated call at all (0 in a 120 s run at 19:34 in
Rome). The soak plays a copy of it whose every hour has the mean rate of its open hours (444 + 42 calls an
hour), so what is measured does not depend on when it is run; the result says how many calls it placed, and at
least half those expected is a target.
Every process's memory (RSS of it and its children) is sampled every `BENCH_SOAK_SAMPLE_SECONDS`; after the
first fifth (warm-up) a least-squares slope is fitted per process. Targets: every slope ≤ 0.5 MB/min (flat),
no error in any process's log (a traceback, ERROR or CRITICAL; the simulator's too, to its exit) and no failed
engine event, and at the end the floor's invariants (`tests/faults/invariants.py`: every call recorded, budget
leases = live calls, no operator on a call that has ended or ringing with no live ring).
Writes bench/results/soak.json; the processes' logs go to bench/results/soak-<name>.log.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import RESULTS, ROOT, fresh_django, write_result

URL = fresh_django("soak")

import psutil  # noqa: E402
import yaml  # noqa: E402

from accounts.models import Account  # noqa: E402
from acd.choices import CallState  # noqa: E402
from acd.models import Call  # noqa: E402
from agents import actions as presence  # noqa: E402
from callcenter.embedded import free_port  # noqa: E402
from tests import factories  # noqa: E402
from tests.faults.invariants import floor_violations  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "900"))
SAMPLE_SECONDS = float(os.environ.get("BENCH_SOAK_SAMPLE_SECONDS", "10"))
CALL_INTERVAL = float(os.environ.get("BENCH_SOAK_CALL_INTERVAL", "1.0"))
SLOPE_MAX_MB_PER_MIN = 0.5
SIMULATED_CALLS_MIN_SHARE = 0.5  # of the calls the scenario's mean rate places in the soak's time
TARGETS = {"rss_slope_mb_per_min_max": SLOPE_MAX_MB_PER_MIN, "errors_logged": 0, "engine_errors": 0,
           "invariant_violations": 0, "simulated_calls_min_share_of_expected": SIMULATED_CALLS_MIN_SHARE}
ERROR_LINE = re.compile(r"Traceback|\bERROR\b|CRITICAL")


def procfile(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit(f"Procfile has no {name} process")


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": URL, "DEBUG": "false", "TELEPHONY_BACKEND": "webhook",
            "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECRET_KEY": SECRET, "HTTPS": "false",
            "BEHIND_PROXY": "false", "PYTHONUNBUFFERED": "1",
            "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


SECRET = secrets.token_urlsafe(50)


def start(name: str, command: str, **extra: str) -> subprocess.Popen:
    log = open(RESULTS / f"soak-{name}.log", "w")  # noqa: SIM115  (the process's whole life)
    return subprocess.Popen(["bash", "-c", command], cwd=ROOT, env=environment(**extra), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_listening(port: int, process: subprocess.Popen) -> None:
    import socket

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"a web process ended early; see {RESULTS}/soak-web*.log")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise SystemExit(f"no web process listened on {port} within 120 s")


def tree_rss_mb(pid: int) -> float | None:
    try:
        root = psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (minutes, MB)."""
    n = len(points)
    if n < 2:
        return 0.0
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def webhook_floor() -> tuple[Account, str]:
    account = factories.make_account(name="Soak webhook", plan_code="unlimited-plus")
    ops = [factories.make_operator(account) for _ in range(6)]
    number = factories.make_number(account, factories.make_service(account, [(op, 5) for op in ops],
                                                                   wrapup_seconds=0))
    for op in ops:
        presence.login_operator(op.pk)
    return account, number.number


def all_day_scenario() -> tuple[str, float]:
    """center-50 with every hour at the mean rate of its open hours (see the module's docstring): the file's path
    and the calls an hour it places."""
    doc = yaml.safe_load((ROOT / "scenarios" / "center-50.yaml").read_text())
    per_hour = 0.0
    for arrival in doc["arrivals"]:
        open_hours = [rate for rate in arrival["per_hour"] if rate > 0]
        arrival["per_hour"] = round(sum(open_hours) / len(open_hours), 1)
        per_hour += arrival["per_hour"]
    path = Path(tempfile.mkstemp(prefix="soak-center-50-all-day-", suffix=".yaml")[1])
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path), per_hour


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stopped: the processes it started stop too
    RESULTS.mkdir(parents=True, exist_ok=True)
    account, dialed = webhook_floor()
    ports = [free_port(), free_port()]
    processes: dict[str, subprocess.Popen] = {}
    for i, port in enumerate(ports, 1):
        processes[f"web{i}"] = start(f"web{i}", procfile("web"), PORT=str(port), HOST="127.0.0.1",
                                     WEB_CONCURRENCY="1")
    for i in (1, 2):
        processes[f"worker{i}"] = start(f"worker{i}", procfile("worker") + f" -n soak{i}@%h",
                                        CELERY_CONCURRENCY="1")
    processes["beat"] = start("beat", procfile("beat"))
    for i, port in enumerate(ports, 1):
        wait_listening(port, processes[f"web{i}"])
    hours = SECONDS / 3600
    scenario, per_hour = all_day_scenario()
    drivers = {"simulate": start("simulate", f"python manage.py simulate {scenario} --speed realtime "
                                             f"--hours {hours:.4f} --quiet")}
    engines = [subprocess.Popen([sys.executable, str(ROOT / "bench" / "webhook_engine.py"), "--port", str(port),
                                 f"--account={account.slug}", f"--secret={account.webhook_secret}",
                                 "--dialed", dialed, "--tag", f"soak{i}", "--seconds", str(SECONDS),
                                 "--warmup", "0", "--interval", str(CALL_INTERVAL)],
                                stdout=subprocess.PIPE, text=True) for i, port in enumerate(ports)]
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in [*processes, *drivers]}
    started = time.monotonic()
    try:
        while time.monotonic() - started < SECONDS:
            minute = (time.monotonic() - started) / 60
            for name, process in {**processes, **drivers}.items():
                rss = tree_rss_mb(process.pid)
                if rss is not None:
                    samples[name].append((minute, rss))
            time.sleep(SAMPLE_SECONDS)
        results = [json.loads(engine.communicate(timeout=300)[0]) for engine in engines]
        # The simulator would go on until its last callers hang up (hours in real time): stop it as Ctrl-C
        # does; it hangs up the calls it still carries and logs its operators off (checked below).
        os.killpg(drivers["simulate"].pid, signal.SIGINT)
        simulator_exit = drivers["simulate"].wait(timeout=120)
        time.sleep(5)  # the last wrap-ups and sweeps
    finally:
        for process in [*engines, *drivers.values(), *processes.values()]:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    process.terminate()
        for process in [*drivers.values(), *processes.values()]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    warm = SECONDS / 60 / 5
    slopes = {name: round(slope([p for p in points if p[0] >= warm]), 3) for name, points in samples.items()}
    rss = {name: {"first_mb": round(points[0][1], 1), "last_mb": round(points[-1][1], 1),
                  "max_mb": round(max(y for _, y in points), 1)} for name, points in samples.items() if points}
    errors = {}
    for name in [*processes, *drivers]:
        text = (RESULTS / f"soak-{name}.log").read_text(errors="replace")
        lines = [line for line in text.splitlines() if ERROR_LINE.search(line)]
        if lines:
            errors[name] = {"count": len(lines), "first": lines[:3]}
    broken = [v for acc in Account.objects.all() for v in floor_violations(acc)]
    engine_errors = sum(r["error_count"] for r in results)
    answered = sum(r["answered"] for r in results)
    sim_calls = Call.objects.exclude(account=account).count()
    expected_sim_calls = per_hour * SECONDS / 3600
    figures = {"seconds": SECONDS, "samples_per_process": min(len(p) for p in samples.values()),
               "rss_slope_mb_per_min": slopes, "rss": rss, "webhook_calls_answered": answered,
               "webhook_calls_unanswered": sum(r["unanswered"] for r in results), "engine_errors": engine_errors,
               "engine_error_samples": [e for r in results for e in r["errors"]][:3],
               "simulated_calls": sim_calls, "simulated_calls_expected": round(expected_sim_calls, 1),
               "simulated_calls_left_up": Call.objects.exclude(account=account).exclude(state=CallState.ENDED)
               .count(), "simulator_exit_status": simulator_exit,
               "errors_logged": sum(e["count"] for e in errors.values()),
               "error_samples": errors, "invariant_violations": broken,
               "load_average_1m": round(os.getloadavg()[0], 1)}
    worst = max(slopes.values())
    met = (worst <= SLOPE_MAX_MB_PER_MIN and not errors and engine_errors == 0 and not broken
           and sim_calls >= SIMULATED_CALLS_MIN_SHARE * expected_sim_calls)
    write_result("soak", figures, TARGETS, met,
                 f"{SECONDS:.0f} s: worst RSS slope {worst} MB/min ({max(slopes, key=slopes.get)}; target ≤ "
                 f"{SLOPE_MAX_MB_PER_MIN}), {figures['errors_logged']} error lines logged, {engine_errors} engine "
                 f"errors, {answered} webhook calls + {sim_calls} simulated calls (expected {expected_sim_calls:.0f}), "
                 f"{len(broken)} invariant "
                 f"violations")


if __name__ == "__main__":
    main()
