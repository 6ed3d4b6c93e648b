"""Voice menus in scenarios: the menus a scenario's numbers answer with, and how its callers choose.

```yaml
numbers:
  - {number: "+390299990000", menu: Principale}
menus:
  - name: Principale
    timeout_seconds: 5
    max_retries: 1
    options:
      - {digit: "1", label: Vendite, service: Vendite}
      - {digit: "2", label: Assistenza, submenu: Assistenza}
    choices: {"1": 0.6, "2": 0.3, "": 0.05, "7": 0.05}   # "" is silence (the timeout); weights add up to 1
```
The callers' choices are drawn per menu from `choices`; a menu without them gets a digit of its options at
random. The engine asks `digits_for` when a `CollectDigits` comes for a call that is in a menu.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from acd.models import Call
from ivr.choices import FallbackAction, OptionAction
from ivr.models import DIGITS, Menu, MenuNumber, MenuOption
from routing.models import PhoneNumber, Service

_DIGITS = {d for d, _label in DIGITS}


class MenuSpecError(ValueError):
    pass


@dataclass(frozen=True)
class OptionSpec:
    digit: str
    label: str
    action: str
    service: str | None
    submenu: str | None


@dataclass(frozen=True)
class MenuSpec:
    name: str
    timeout_seconds: int
    max_retries: int
    fallback_action: str
    fallback_service: str | None
    options: tuple[OptionSpec, ...]
    choices: tuple[tuple[str, float], ...]  # (digit, weight); "" is silence


def parse_menus(raw: Any, service_names: set[str]) -> tuple[MenuSpec, ...]:
    """The scenario's `menus`, with errors naming the place (`menus[0].options[1].service: ...`)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MenuSpecError("menus: give a list of menus")
    names = {m.get("name") for m in raw if isinstance(m, dict)}
    menus = []
    for i, m in enumerate(raw):
        where = f"menus[{i}]"
        if not isinstance(m, dict) or not m.get("name"):
            raise MenuSpecError(f"{where}: a mapping with a name")
        options = []
        for j, o in enumerate(m.get("options") or []):
            at = f"{where}.options[{j}]"
            digit = str(o.get("digit", ""))
            if digit not in _DIGITS:
                raise MenuSpecError(f"{at}.digit: one of {sorted(_DIGITS)}")
            action = o.get("action") or (OptionAction.SUBMENU if o.get("submenu") else OptionAction.SERVICE)
            if action not in OptionAction.values:
                raise MenuSpecError(f"{at}.action: one of {OptionAction.values}")
            if o.get("service") is not None and o["service"] not in service_names:
                raise MenuSpecError(f"{at}.service: no service named {o['service']!r}")
            if o.get("submenu") is not None and o["submenu"] not in names:
                raise MenuSpecError(f"{at}.submenu: no menu named {o['submenu']!r}")
            options.append(OptionSpec(digit, str(o.get("label", digit)), action, o.get("service"), o.get("submenu")))
        choices = m.get("choices") or {}
        if not isinstance(choices, dict) or any(not isinstance(w, int | float) or w < 0 for w in choices.values()):
            raise MenuSpecError(f"{where}.choices: digit → weight (\"\" for silence)")
        if choices and abs(sum(choices.values()) - 1) > 1e-6:
            raise MenuSpecError(f"{where}.choices: the weights must add up to 1")
        fallback = m.get("fallback_service")
        if fallback is not None and fallback not in service_names:
            raise MenuSpecError(f"{where}.fallback_service: no service named {fallback!r}")
        menus.append(MenuSpec(
            name=str(m["name"]), timeout_seconds=int(m.get("timeout_seconds", 5)),
            max_retries=int(m.get("max_retries", 1)),
            fallback_action=m.get("fallback_action", FallbackAction.SERVICE if fallback else FallbackAction.HANGUP),
            fallback_service=fallback, options=tuple(options),
            choices=tuple((str(d), float(w)) for d, w in choices.items())))
    return tuple(menus)


def build_menus(account_id: int, menus: tuple[MenuSpec, ...], numbers: dict[str, str],
                services: dict[str, Service]) -> None:
    """The scenario's menus on the account (through the models' own checks); those it has are kept."""
    built: dict[str, Menu] = {}
    for spec in menus:
        menu, created = Menu.objects.get_or_create(account_id=account_id, name=spec.name, defaults={
            "timeout_seconds": spec.timeout_seconds, "max_retries": spec.max_retries,
            "fallback_action": spec.fallback_action,
            "fallback_service": services.get(spec.fallback_service) if spec.fallback_service else None})
        built[spec.name] = menu
        menu.created_now = created
    for spec in menus:  # the options once every menu exists: options name sub-menus
        menu = built[spec.name]
        if not menu.created_now:
            continue
        for o in spec.options:
            option = MenuOption(menu=menu, digit=o.digit, label=o.label, action=o.action,
                                service=services.get(o.service) if o.service else None,
                                submenu=built.get(o.submenu) if o.submenu else None)
            option.full_clean()
            option.save()
    for number, menu_name in numbers.items():
        phone, _ = PhoneNumber.objects.get_or_create(number=number, defaults={"account_id": account_id})
        MenuNumber.objects.get_or_create(number=phone, defaults={"menu": built[menu_name]})


class MenuCallers:
    """How the scenario's callers press keys in each menu (a deterministic draw from the engine's rng)."""

    def __init__(self, menus: tuple[MenuSpec, ...], rng: random.Random) -> None:
        self.specs = {m.name: m for m in menus}
        self.rng = rng
        self.names: dict[int, str] = {}

    def digits_for(self, account_id: int, call_ref: str) -> str | None:
        """The key the caller presses in the menu they are in, or None when the call is not in a menu."""
        if not self.specs:
            return None  # a scenario without menus asks the database nothing
        menu_id = Call.objects.filter(account_id=account_id, engine_ref=call_ref).values_list("menu_id",
                                                                                              flat=True).first()
        if menu_id is None:
            return None
        if menu_id not in self.names:
            self.names[menu_id] = Menu.objects.filter(pk=menu_id).values_list("name", flat=True).first() or ""
        spec = self.specs.get(self.names[menu_id])
        if spec is None or not spec.choices:
            digits = [o.digit for o in spec.options] if spec is not None else []
            return self.rng.choice(digits) if digits else ""
        r, total = self.rng.random(), 0.0
        for digit, weight in spec.choices:
            total += weight
            if r < total:
                return digit
        return spec.choices[-1][0]
