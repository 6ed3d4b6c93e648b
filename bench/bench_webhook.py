"""Benchmark `webhook`: whole answered calls per second over the signed webhook, production process layout.

Eight engines (eight processes, bench/webhook_engine.py) each drive whole answered calls, one after another:
incoming_call → (prompt_finished: the service plays a welcome) → leg_ringing → leg_answered → hangup, every
event a signed `POST /api/v1/telephony/events/` (HMAC as telephony/signing.py) on a kept-alive connection.
The server is the Procfile's `web` command itself (uvicorn, WEB_CONCURRENCY workers) on a free port, with
production settings (DEBUG off, the webhook backend). Beside it, before and after, the baseline: a bare
single-row UPDATE+commit over 8 connections on the same PostgreSQL (the median is kept).

Targets (issue 9): calls/s ≥ 0.02 × the bare rate and ≥ 10 × 7.6 (the first measurement, one daphne), and
an event's latency p99 ≤ 100 ms. `BENCH_SECONDS` sets how long the engines run (30 by default),
`BENCH_WEB_CONCURRENCY` the server's workers (the Procfile's default otherwise).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.common import RESULTS, ROOT, fresh_django, write_result

URL = fresh_django("webhook")

import psycopg  # noqa: E402

from acd.tests.test_queue_overflow import factories_prompt  # noqa: E402
from agents import actions as presence  # noqa: E402
from tests import factories  # noqa: E402

ENGINES = 8
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
BARE_SECONDS = float(os.environ.get("BENCH_BARE_SECONDS", "5"))
FIRST_CALLS_PER_S = 7.6  # issue 9: eight engines against one daphne process
TARGETS = {"ratio_to_bare_min": 0.02, "calls_per_s_min": round(10 * FIRST_CALLS_PER_S, 1), "p99_ms_max": 100.0}


def floor() -> tuple:
    """An account with a welcome prompt, operators enough for eight calls at once, no wrap-up."""
    account = factories.make_account(plan_code="unlimited-plus")
    ops = [factories.make_operator(account) for _ in range(3 * ENGINES)]
    service = factories.make_service(account, [(op, 5) for op in ops], wrapup_seconds=0)
    service.welcome_prompt = factories_prompt(account, "welcome")
    service.save()
    number = factories.make_number(account, service)
    for op in ops:
        presence.login_operator(op.pk)
    return account, number


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def web_command() -> str:
    """The Procfile's `web` line: what production runs."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit("Procfile has no web process")


def start_server(port: int) -> tuple[subprocess.Popen, int]:
    """Start the web process; its output goes to bench/results/webhook-server.log."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    command = web_command()
    default = re.search(r"\$\{WEB_CONCURRENCY:-(\d+)\}", command)
    workers = int(os.environ.get("BENCH_WEB_CONCURRENCY") or (default.group(1) if default else 2))
    env = {**os.environ, "DATABASE_URL": URL, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(workers),
           "DEBUG": "false", "TELEPHONY_BACKEND": "webhook", "ALLOWED_HOSTS": "127.0.0.1,localhost",
           # production's settings, but plain HTTP on loopback (TLS ends at the proxy) and a throw-away key
           "SECRET_KEY": secrets.token_urlsafe(50), "HTTPS": "false", "BEHIND_PROXY": "false",
           # `python` in the Procfile is the virtualenv's, as under `make run`
           "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = open(RESULTS / "webhook-server.log", "w")  # noqa: SIM115  (the server's whole life)
    server = subprocess.Popen(["bash", "-c", command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True)  # its own process group: stopped whole
    deadline = time.time() + 120
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the web process ended: {(RESULTS / 'webhook-server.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    else:
        raise SystemExit("the web process did not listen within 120 s")
    return server, workers


def bare_rate(seconds: float) -> float:
    """A bare single-row UPDATE+commit over 8 connections (each its own row), in total per second."""
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_counter (id int PRIMARY KEY, n bigint)")
        conn.execute("INSERT INTO bench_counter SELECT g, 0 FROM generate_series(1, %s) g ON CONFLICT DO NOTHING",
                     (ENGINES,))
    counts = [0] * ENGINES
    start = threading.Barrier(ENGINES)

    def client(i: int) -> None:
        with psycopg.connect(URL) as conn:
            start.wait()
            until = time.perf_counter() + seconds
            while time.perf_counter() < until:
                conn.execute("UPDATE bench_counter SET n = n + 1 WHERE id = %s", (i + 1,))
                conn.commit()
                counts[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(ENGINES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def drive(port: int, account, number) -> dict:
    start_at = time.time() + 5
    procs = [subprocess.Popen([sys.executable, str(ROOT / "bench" / "webhook_engine.py"), "--port", str(port),
                               f"--account={account.slug}", f"--secret={account.webhook_secret}",
                               "--dialed", number.number, "--tag", f"b{i}", "--seconds", str(SECONDS),
                               "--start-at", str(start_at)], stdout=subprocess.PIPE, text=True)
             for i in range(ENGINES)]
    results = [json.loads(p.communicate(timeout=SECONDS + 600)[0]) for p in procs]
    latencies = sorted(x for r in results for x in r["latencies"])
    seconds = max(r["seconds"] for r in results)
    answered = sum(r["answered"] for r in results)
    return {"answered": answered, "unanswered": sum(r["unanswered"] for r in results),
            "errors": sum(r["error_count"] for r in results),
            "error_samples": [e for r in results for e in r["errors"]][:3],
            "events": len(latencies), "seconds": round(seconds, 1),
            "calls_per_s": round(answered / seconds, 1), "events_per_s": round(len(latencies) / seconds, 1),
            "p50_ms": round(1000 * latencies[len(latencies) // 2], 1) if latencies else None,
            "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1)
            if latencies else None}


def main() -> None:
    account, number = floor()
    port = free_port()
    server, workers = start_server(port)
    try:
        bare_before = bare_rate(BARE_SECONDS)
        run = drive(port, account, number)
        bare_after = bare_rate(BARE_SECONDS)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    bare = statistics.median([bare_before, bare_after])
    load = os.getloadavg()
    figures = {**run, "web_workers": workers, "engines": ENGINES, "bare_update_commit_per_s_8": round(bare, 1),
               "ratio_to_bare": round(run["calls_per_s"] / bare, 4), "load_average_1m": round(load[0], 1)}
    met = (figures["ratio_to_bare"] >= TARGETS["ratio_to_bare_min"] and run["calls_per_s"] >= TARGETS["calls_per_s_min"]
           and run["p99_ms"] is not None and run["p99_ms"] <= TARGETS["p99_ms_max"] and run["errors"] == 0)
    write_result("webhook", figures, TARGETS, met,
                 f"{run['calls_per_s']} calls/s ({run['events_per_s']} events/s, p50 {run['p50_ms']} ms, p99 "
                 f"{run['p99_ms']} ms, {run['errors']} errors) with {ENGINES} engines on {workers} web workers; "
                 f"bare UPDATE+commit {bare:.0f}/s over 8 connections, ratio {figures['ratio_to_bare']} "
                 f"(target ≥ {TARGETS['ratio_to_bare_min']}, ≥ {TARGETS['calls_per_s_min']} calls/s, p99 ≤ "
                 f"{TARGETS['p99_ms_max']:.0f} ms); load average {load[0]:.1f}")


if __name__ == "__main__":
    main()
