"""What apps beside the boards add to the operator console: a part of its snapshot and buttons of their own.

The console (boards) and the apps that give operators work besides ringing calls (the dialer's preview mode)
sit on one level of the layers and may not import each other. So such an app registers here, once, at
start-up (its AppConfig.ready): `snapshot(operator_id)` returns the keys it adds to the console's snapshot,
and each named action takes the signed-in operator's id and the button's JSON body, calls the app's actions
and returns what the console shows next. The console's view only parses, authenticates and dispatches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SnapshotPart = Callable[[int], dict[str, Any]]
ConsoleAction = Callable[[int, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class ConsoleExtension:
    snapshot: SnapshotPart
    actions: dict[str, ConsoleAction] = field(default_factory=dict)


_extensions: dict[str, ConsoleExtension] = {}


def register(name: str, extension: ConsoleExtension) -> None:
    """Idempotent per name (ready() may run more than once in tests)."""
    _extensions[name] = extension


def snapshot_parts(operator_id: int) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for extension in _extensions.values():
        parts.update(extension.snapshot(operator_id))
    return parts


def action(name: str) -> ConsoleAction | None:
    for extension in _extensions.values():
        if name in extension.actions:
            return extension.actions[name]
    return None
