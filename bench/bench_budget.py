"""Benchmark `budget`: acquires and releases per second beside the bare primitive; the 64-process hammer.

1. Acquire (conditional upsert on the account's counter + lease row, one transaction) and release
   (conditional lease update + counter decrement), each beside a bare single-row UPDATE+commit on the same
   PostgreSQL, with 1 and with 8 concurrent clients (8 clients all hit one account: worst-case contention;
   the bare loop's 8 clients hit one row too). Target: ≥ 0.5 of the primitive for each.
2. Hammer: 64 processes × 1,000 acquire/release attempts on one account of limit 10 inside a reseller of
   limit 15: the peak never exceeds the limits, and at the end nothing is held.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WORKER = len(sys.argv) > 1 and sys.argv[1] == "worker"
if not WORKER:
    from bench.common import ROOT, fresh_django, write_result

    fresh_django("budget")
else:
    import django

    django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Sum  # noqa: E402

from accounts.models import Plan  # noqa: E402
from acd.choices import Direction  # noqa: E402
from acd.models import Call  # noqa: E402
from budget import actions as budget  # noqa: E402
from budget.models import ChannelUsage  # noqa: E402
from core.clock import now  # noqa: E402

N = int(os.environ.get("BENCH_OPS", "1500"))


def bare(n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("UPDATE bench_counter SET n = n + 1 WHERE id = 1")
    return n / (time.perf_counter() - started)


def ours(account_id: int, n: int, tag: str) -> tuple[float, float]:
    calls = Call.objects.bulk_create([Call(account_id=account_id, engine_ref=f"{tag}-{i}", arrived_at=now(),
                                           direction=Direction.SYSTEM) for i in range(n)])
    started = time.perf_counter()
    for call in calls:
        with transaction.atomic():
            assert budget.acquire(call, Direction.SYSTEM) is None
    acquire_rate = n / (time.perf_counter() - started)
    started = time.perf_counter()
    for call in calls:
        budget.release(call.pk)  # atomic by itself
    return acquire_rate, n / (time.perf_counter() - started)


def worker() -> None:
    mode, account_id, n, tag = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    if mode == "bare":
        print(json.dumps({"bare": bare(n)}))
    else:
        acquire_rate, release_rate = ours(account_id, n, tag)
        print(json.dumps({"acquire": acquire_rate, "release": release_rate}))


def parallel(mode: str, account_id: int, clients: int, n: int, tag: str) -> dict:
    procs = [subprocess.Popen([sys.executable, __file__, "worker", mode, str(account_id), str(n), f"{tag}{i}"],
                              cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in range(clients)]
    outs = [p.communicate() for p in procs]
    failed = [err[-800:] for p, (_, err) in zip(procs, outs, strict=True) if p.returncode]
    if failed:
        raise SystemExit(f"workers failed: {failed}")
    docs = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    return {k: sum(d[k] for d in docs) for k in docs[0]}  # aggregate rate over the clients


def hammer(processes: int, attempts: int) -> dict:
    from tests import factories

    reseller = factories.make_account()
    reseller.plan = Plan.objects.create(code="bench15", name="Reseller 15", included_channels=15)
    reseller.save()
    client = factories.make_account()
    client.plan = Plan.objects.create(code="bench10", name="Client 10", included_channels=10)
    client.parent = reseller
    client.slug = "bench-hammer"
    client.save()
    sibling = factories.make_account()  # another client of the reseller holds 7 channels throughout, so
    sibling.parent = reseller           # the reseller's limit (15) binds before the client's own (10)
    sibling.save()
    held = Call.objects.bulk_create([Call(account=sibling, engine_ref=f"sib-{i}", arrived_at=now(),
                                          direction=Direction.SYSTEM) for i in range(7)])
    for call in held:
        with transaction.atomic():
            assert budget.acquire(call, Direction.SYSTEM) is None
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "manage.py", "budget_hammer", "--account", "bench-hammer",
                               "--attempts", str(attempts), "--tag", f"h{i}"], cwd=ROOT, env=dict(os.environ),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(processes)]
    outs = [p.communicate() for p in procs]
    failed = [err[-800:] for p, (_, err) in zip(procs, outs, strict=True) if p.returncode]
    docs = [json.loads(out.strip().splitlines()[-1]) for (out, _), p in zip(outs, procs, strict=True)
            if p.returncode == 0]
    elapsed = round(time.perf_counter() - started, 1)
    for call in held:
        budget.release(call.pk)
    return {
        "processes": processes, "attempts": processes * attempts, "seconds": elapsed,
        "failed_processes": len(failed),
        "acquired": sum(d["acquired"] for d in docs), "refused": sum(d["refused"] for d in docs),
        "peak_client": max(d["peak"][str(client.pk)] for d in docs),
        "peak_reseller": max(d["peak"][str(reseller.pk)] for d in docs),
        "held_at_end": ChannelUsage.objects.filter(account__in=[client, reseller, sibling]).aggregate(
            s=Sum("in_use"))["s"] or 0,
        "errors": failed[:2],
    }


def main() -> None:
    from tests import factories

    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_counter (id int PRIMARY KEY, n bigint)")
        cur.execute("INSERT INTO bench_counter VALUES (1, 0) ON CONFLICT DO NOTHING")
    account = factories.make_account()
    account.plan = Plan.objects.create(code="bench-big", name="Big", included_channels=10_000_000)
    account.save()
    ours(account.pk, 100, "warm")
    bare(100)
    rounds = []
    for r in range(3):
        b = bare(N)
        a, rel = ours(account.pk, N, f"r{r}")
        rounds.append((a, rel, b))
    acq1 = statistics.median(x[0] for x in rounds)
    rel1 = statistics.median(x[1] for x in rounds)
    bare1 = statistics.median(x[2] for x in rounds)
    p_bare = parallel("bare", account.pk, 8, N // 4, "pb")["bare"]
    p_ours = parallel("ours", account.pk, 8, N // 4, "po")
    ham = hammer(int(os.environ.get("BENCH_HAMMER_PROCS", "64")), int(os.environ.get("BENCH_HAMMER_ATTEMPTS", "1000")))
    figures = {
        "clients_1": {"acquire_per_s": round(acq1, 1), "release_per_s": round(rel1, 1),
                      "bare_update_commit_per_s": round(bare1, 1), "acquire_ratio": round(acq1 / bare1, 3),
                      "release_ratio": round(rel1 / bare1, 3)},
        "clients_8": {"acquire_per_s": round(p_ours["acquire"], 1), "release_per_s": round(p_ours["release"], 1),
                      "bare_update_commit_per_s": round(p_bare, 1),
                      "acquire_ratio": round(p_ours["acquire"] / p_bare, 3),
                      "release_ratio": round(p_ours["release"] / p_bare, 3)},
        "hammer": ham,
    }
    ratios = [figures[c][k] for c in ("clients_1", "clients_8") for k in ("acquire_ratio", "release_ratio")]
    hammer_ok = (ham["peak_client"] <= 10 and ham["peak_reseller"] <= 15 and ham["held_at_end"] == 0
                 and ham["peak_reseller"] == 15  # contention really reached the reseller's limit
                 and ham["failed_processes"] == 0)
    met = all(r >= 0.5 for r in ratios) and hammer_ok
    write_result("budget", figures, {"ratios": ">= 0.5 of the bare UPDATE+commit, 1 and 8 clients",
                                     "hammer": "peak <= 10 (client) and <= 15 (reseller); nothing held at end"},
                 met, f"1 client: acquire x{figures['clients_1']['acquire_ratio']} release "
                      f"x{figures['clients_1']['release_ratio']}; 8 clients: acquire "
                      f"x{figures['clients_8']['acquire_ratio']} release x{figures['clients_8']['release_ratio']} "
                      f"(target >= 0.5); hammer {ham['attempts']} attempts/{ham['processes']} procs: peak "
                      f"{ham['peak_client']}/10 and {ham['peak_reseller']}/15 (7 held by a sibling), held at end "
                      f"{ham['held_at_end']}")


if __name__ == "__main__":
    worker() if WORKER else main()
