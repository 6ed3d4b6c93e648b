"""Scenario files (YAML): who calls, how often, how patient; how operators answer. Validated with clear
messages that name the place of the mistake (e.g. `operators[1].answer_probability: must be between 0 and 1`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError

from core.validators import normalize_e164
from routing.choices import Criterion, OverflowAction

from .campaigns import CampaignSpec, CampaignSpecError, parse_campaigns
from .menus import MenuSpec, MenuSpecError, parse_menus


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class Distribution:
    """Exponential with `mean` seconds (or `fixed`), clipped to [min, max]."""

    mean: float
    fixed: bool = False
    minimum: float = 0.0
    maximum: float = 86400.0


@dataclass(frozen=True)
class OperatorGroup:
    prefix: str
    count: int
    skill: int
    answer_probability: float
    answer_delay_rings: tuple[float, float]
    busy_probability: float
    reject_probability: float
    breaks_every_minutes: float | None
    break_minutes: float
    back_after_auto_pause_minutes: float  # an operator paused for not answering notices and resumes


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    criterion: str
    operators: tuple[str, ...]  # operator-group prefixes ("*" = every group)
    settings: dict[str, Any]


@dataclass(frozen=True)
class Arrivals:
    number: str
    per_hour: tuple[float, ...]  # 24 rates (calls per hour by hour of day, local time)


@dataclass(frozen=True)
class Callers:
    patience: Distribution
    handle: Distribution
    voicemail: Distribution
    repeat_probability: float
    dial_code_probability: float
    population: int


@dataclass(frozen=True)
class Outbound:
    """Outcomes of originated calls (for the dialer): shares that sum to 1."""

    live: float = 0.3
    no_answer: float = 0.4
    busy: float = 0.1
    machine: float = 0.15
    invalid: float = 0.05


@dataclass(frozen=True)
class Scenario:
    name: str
    start: dt.datetime
    hours: float
    seed: int
    account: dict[str, Any]
    operators: tuple[OperatorGroup, ...]
    services: tuple[ServiceSpec, ...]
    numbers: dict[str, str]  # number → service name
    arrivals: tuple[Arrivals, ...]
    callers: Callers
    outbound: Outbound = field(default_factory=Outbound)
    menus: tuple[MenuSpec, ...] = ()  # voice menus (simulator/menus.py)
    menu_numbers: dict[str, str] = field(default_factory=dict)  # number → menu name
    campaigns: tuple[CampaignSpec, ...] = ()  # dialer campaigns (simulator/campaigns.py)


def _req(doc: dict, key: str, where: str) -> Any:
    if key not in doc:
        raise ScenarioError(f"{where}.{key}: is required")
    return doc[key]


def _num(value: Any, where: str, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}: must be a number, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ScenarioError(f"{where}: must be between {lo} and {hi}, got {value}")
    return float(value)


def _prob(value: Any, where: str) -> float:
    return _num(value, where, 0, 1)


def _dist(doc: Any, where: str, default: float) -> Distribution:
    if doc is None:
        return Distribution(mean=default)
    if isinstance(doc, int | float) and not isinstance(doc, bool):
        return Distribution(mean=_num(doc, where, 0), fixed=True)
    if not isinstance(doc, dict):
        raise ScenarioError(f"{where}: give a number of seconds or {{mean: S}}")
    unknown = set(doc) - {"mean", "fixed", "min", "max"}
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {sorted(unknown)}")
    return Distribution(mean=_num(_req(doc, "mean", where), f"{where}.mean", 0),
                        fixed=bool(doc.get("fixed", False)),
                        minimum=_num(doc.get("min", 0), f"{where}.min", 0),
                        maximum=_num(doc.get("max", 86400), f"{where}.max", 0))


SERVICE_SETTINGS = {"ring_count", "ring_seconds", "pause_after_misses", "wrapup_seconds", "max_wait_seconds",
                    "overflow_action", "overflow_number", "service_level_seconds", "priority",
                    "escalation_seconds", "code_unavailable_action", "sticky_wait_seconds",
                    "overflow_when_nobody_logged_in", "whisper_menu_choice"}


def parse(doc: Any, *, source: str = "scenario") -> Scenario:
    if not isinstance(doc, dict):
        raise ScenarioError(f"{source}: a scenario is a YAML mapping")
    known = {"name", "start", "hours", "seed", "account", "operators", "services", "numbers", "arrivals",
             "callers", "outbound", "menus", "campaigns"}
    unknown = set(doc) - known
    if unknown:
        raise ScenarioError(f"{source}: unknown keys {sorted(unknown)} (expected {sorted(known)})")
    start = doc.get("start", "2026-03-02T08:00:00+01:00")
    try:
        start_at = dt.datetime.fromisoformat(str(start))
    except ValueError as exc:
        raise ScenarioError(f"start: {start!r} is not an ISO date-time such as 2026-03-02T08:00:00+01:00") from exc
    if start_at.tzinfo is None:
        raise ScenarioError("start: give a time zone offset, e.g. 2026-03-02T08:00:00+01:00")
    groups = []
    for i, g in enumerate(_req(doc, "operators", "scenario") or []):
        where = f"operators[{i}]"
        if not isinstance(g, dict):
            raise ScenarioError(f"{where}: must be a mapping")
        delay = g.get("answer_delay_rings", [1, 3])
        if not (isinstance(delay, list) and len(delay) == 2):
            raise ScenarioError(f"{where}.answer_delay_rings: give [min, max] rings")
        lo, hi = (_num(d, f"{where}.answer_delay_rings", 0, 20) for d in delay)
        if lo > hi:
            raise ScenarioError(f"{where}.answer_delay_rings: min is above max")
        breaks = g.get("breaks_every_minutes")
        groups.append(OperatorGroup(
            prefix=str(_req(g, "prefix", where)), count=int(_num(_req(g, "count", where), f"{where}.count", 1, 5000)),
            skill=int(_num(g.get("skill", 5), f"{where}.skill", 1, 10)),
            answer_probability=_prob(g.get("answer_probability", 0.97), f"{where}.answer_probability"),
            answer_delay_rings=(lo, hi),
            busy_probability=_prob(g.get("busy_probability", 0.0), f"{where}.busy_probability"),
            reject_probability=_prob(g.get("reject_probability", 0.0), f"{where}.reject_probability"),
            breaks_every_minutes=_num(breaks, f"{where}.breaks_every_minutes", 1) if breaks is not None else None,
            break_minutes=_num(g.get("break_minutes", 10), f"{where}.break_minutes", 0),
            back_after_auto_pause_minutes=_num(g.get("back_after_auto_pause_minutes", 2),
                                               f"{where}.back_after_auto_pause_minutes", 0)))
    if not groups:
        raise ScenarioError("operators: give at least one operator group")
    prefixes = {g.prefix for g in groups}
    services = []
    for i, s in enumerate(_req(doc, "services", "scenario") or []):
        where = f"services[{i}]"
        criterion = s.get("criterion", Criterion.LONGEST_IDLE)
        if criterion not in Criterion.values:
            raise ScenarioError(f"{where}.criterion: {criterion!r} is not one of {Criterion.values}")
        members = s.get("operators", "*")
        members = tuple(prefixes) if members == "*" else tuple(members)
        for m in members:
            if m not in prefixes:
                raise ScenarioError(f"{where}.operators: no operator group with prefix {m!r}")
        settings = {k: v for k, v in s.items() if k not in {"name", "criterion", "operators"}}
        bad = set(settings) - SERVICE_SETTINGS
        if bad:
            raise ScenarioError(f"{where}: unknown settings {sorted(bad)}")
        if settings.get("overflow_action", OverflowAction.VOICEMAIL) not in OverflowAction.values:
            raise ScenarioError(f"{where}.overflow_action: must be one of {OverflowAction.values}")
        services.append(ServiceSpec(name=str(_req(s, "name", where)), criterion=criterion, operators=members,
                                    settings=settings))
    names = {s.name for s in services}
    numbers, menu_numbers = {}, {}
    try:
        menus = parse_menus(doc.get("menus"), names)
    except MenuSpecError as exc:
        raise ScenarioError(str(exc)) from exc
    for i, n in enumerate(_req(doc, "numbers", "scenario") or []):
        where = f"numbers[{i}]"
        raw_number = str(_req(n, "number", where))
        try:
            number = normalize_e164(raw_number)
        except ValidationError as exc:
            raise ScenarioError(f"{where}.number: {n.get('number')!r} is not an E.164 number") from exc
        if n.get("menu") is not None:  # a number answering with a voice menu
            menu_numbers[number] = str(n["menu"])
            continue
        if n.get("service") not in names:
            raise ScenarioError(f"{where}.service: no service named {n.get('service')!r}")
        numbers[number] = n["service"]
    arrivals = []
    for i, a in enumerate(_req(doc, "arrivals", "scenario") or []):
        where = f"arrivals[{i}]"
        try:
            number = normalize_e164(str(_req(a, "number", where)))
        except ValidationError as exc:
            raise ScenarioError(f"{where}.number: {a.get('number')!r} is not an E.164 number") from exc
        if number not in numbers and number not in menu_numbers:
            raise ScenarioError(f"{where}.number: {number} is not in numbers")
        rate = _req(a, "per_hour", where)
        rates = [rate] * 24 if isinstance(rate, int | float) else list(rate)
        if len(rates) != 24:
            raise ScenarioError(f"{where}.per_hour: give one rate or 24 (one per hour of the day)")
        arrivals.append(Arrivals(number=number, per_hour=tuple(_num(r, f"{where}.per_hour", 0) for r in rates)))
    c = doc.get("callers") or {}
    callers = Callers(patience=_dist(c.get("patience_seconds"), "callers.patience_seconds", 120),
                      handle=_dist(c.get("handle_seconds"), "callers.handle_seconds", 180),
                      voicemail=_dist(c.get("voicemail_seconds"), "callers.voicemail_seconds", 20),
                      repeat_probability=_prob(c.get("repeat_probability", 0.1), "callers.repeat_probability"),
                      dial_code_probability=_prob(c.get("dial_code_probability", 0.8),
                                                  "callers.dial_code_probability"),
                      population=int(_num(c.get("population", 100000), "callers.population", 1)))
    o = doc.get("outbound") or {}
    outbound = Outbound(**{k: _prob(o[k], f"outbound.{k}") for k in o}) if o else Outbound()
    if o and abs(sum(vars(outbound).values()) - 1) > 1e-6:
        raise ScenarioError("outbound: the shares must add up to 1")
    try:
        campaigns = parse_campaigns(doc.get("campaigns"), names)
    except CampaignSpecError as exc:
        raise ScenarioError(str(exc)) from exc
    account = doc.get("account") or {}
    if not isinstance(account, dict):
        raise ScenarioError("account: must be a mapping (name, plan, timezone)")
    return Scenario(name=str(doc.get("name", source)), start=start_at,
                    hours=_num(doc.get("hours", 8), "hours", 0.01, 24 * 7), seed=int(doc.get("seed", 1)),
                    account=account, operators=tuple(groups), services=tuple(services), numbers=numbers,
                    arrivals=tuple(arrivals), callers=callers, outbound=outbound, menus=menus,
                    menu_numbers=_menu_numbers(menu_numbers, menus), campaigns=campaigns)


def _menu_numbers(menu_numbers: dict[str, str], menus: tuple[MenuSpec, ...]) -> dict[str, str]:
    known = {m.name for m in menus}
    for number, name in menu_numbers.items():
        if name not in known:
            raise ScenarioError(f"numbers: {number}'s menu {name!r} is not in menus")
    return menu_numbers


def load(path: str | Path) -> Scenario:
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: no such scenario file")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start} cannot be read); save it as UTF-8") from exc
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read: {exc.strerror}") from exc
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from exc
    return parse(doc, source=path.name)
