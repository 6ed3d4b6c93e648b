"""One entry point for the `simulate` command, the tests and the benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .build import build_account
from .engine import Engine
from .report import build_report
from .scenario import Scenario


def simulate(scenario: Scenario, *, seed: int | None = None, speed: str = "max", hours: float | None = None,
             progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    seed = scenario.seed if seed is None else seed
    account = build_account(scenario, simulation=(speed == "max"))
    engine = Engine(scenario, account.pk, seed=seed, speed=speed, hours=hours, progress=progress)
    run = engine.run()
    report = build_report(account.pk, engine.start, engine.end, run, scenario=scenario.name, seed=seed)
    report["account"] = account.slug
    return report
