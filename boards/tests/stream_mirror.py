"""The Python twin of boards/static/boards/stream.js: what a message does to what a page shows.

Function by function the same as the JavaScript (sequenceStep → sequence_step, isNewer → is_newer,
applyConsole → apply_console, applyWallboard → apply_wallboard, openStream's onmessage → StreamClient), so
that `verify_action` can apply the server's real events exactly as the browser does. The browser test
test_stream_parity.py runs both on the same messages and fails when they part. Change one, change the other.

States are the JSON data of a snapshot (dicts and lists, after a JSON round trip), never mutated in place:
each function returns a new state, as the JavaScript does with spreads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

State = dict[str, Any]
Message = dict[str, Any]

# The wallboard's per-operator figures: they come only with the debounced `stats` message.
OPERATOR_FIGURES = ("calls_today", "talk_minutes", "no_answer")


def sequence_step(last_seq: int | None, msg: Message) -> tuple[str, int | None]:
    if msg["type"] == "snapshot":
        return "snapshot", msg["seq"]
    if msg["type"] == "stats":
        return "stats", last_seq
    if not isinstance(msg.get("seq"), int):
        return "apply", last_seq  # unnumbered (an error)
    if last_seq is None or msg["seq"] <= last_seq:
        return "ignore", last_seq
    if msg["seq"] != last_seq + 1:
        return "gap", None
    return "apply", msg["seq"]


def is_newer(shown: State | None, incoming: State) -> bool:
    return not shown or incoming["version"] > shown["version"]


def apply_console(state: State, msg: Message) -> State:
    if msg["type"] == "operator.state":
        if not is_newer(state["operator"], msg["operator"]):
            return state
        return {**state, "operator": msg["operator"], "offer": None}
    if msg["type"] == "offer":
        if not state["operator"] or state["operator"]["version"] != msg["version"]:
            return state
        return {**state, "offer": msg["card"]}
    return state


def apply_wallboard(board: State, msg: Message) -> State:
    if msg["type"] == "operator.state":
        i = next((n for n, o in enumerate(board["operators"]) if o["id"] == msg["operator"]["id"]), -1)
        if i < 0:
            return {**board, "operators": [*board["operators"], msg["operator"]]}
        if not is_newer(board["operators"][i], msg["operator"]):
            return board
        operators = list(board["operators"])
        operators[i] = {**operators[i], **msg["operator"]}
        return {**board, "operators": operators}
    if msg["type"] == "stats":
        shown = {o["id"]: o for o in board["operators"]}

        def merged(fresh: State) -> State:
            mine = shown.get(fresh["id"])
            if not mine or not is_newer(fresh, mine):
                return fresh
            kept = {**mine}
            for key in OPERATOR_FIGURES:
                kept[key] = fresh[key]
            return kept

        return {**msg["data"], "operators": [merged(o) for o in msg["data"]["operators"]]}
    return board  # calls.changed: the server follows it with `stats`


APPLY = {"console": apply_console, "wallboard": apply_wallboard}


@dataclass
class StreamClient:
    """One page's stream as openStream keeps it: the last number applied, and the page's state."""

    page: str  # "console" or "wallboard"
    last_seq: int | None = None
    state: State | None = None
    received: list[Message] = field(default_factory=list)  # every message, in order of arrival
    gaps: int = 0  # times the page would have asked for a new snapshot

    def on_message(self, msg: Message) -> None:
        self.received.append(msg)
        what, self.last_seq = sequence_step(self.last_seq, msg)
        if what == "snapshot":
            self.state = msg["data"]
        elif what == "gap":
            self.gaps += 1
        elif what in ("stats", "apply") and self.state is not None:  # a stats message is {type: "stats", data}
            self.state = APPLY[self.page](self.state, msg)
