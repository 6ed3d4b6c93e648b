"""What a page does with messages that arrive out of order, late or twice (stream_mirror, the twin of
stream.js): an operator's state is replaced only by a newer version; numbers catch lost messages.

`CASES` are also run in Chromium against stream.js itself by test_stream_parity.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from .stream_mirror import StreamClient

CONSOLE, BOARD = "operator.7", "account.3"


def op(version: int, state: str, op_id: int = 7, **extra: Any) -> dict[str, Any]:
    return {"id": op_id, "name": f"Op {op_id}", "login": f"op{op_id}", "state": state,
            "since": f"2026-03-02T09:00:{version:02d}+00:00", "pause_source": extra.pop("pause_source", None),
            "pause_reason": None, "no_answer_streak": 0, "wrapup_until": None, "version": version, **extra}


def on_board(version: int, state: str, op_id: int = 7, calls: int = 0, **extra: Any) -> dict[str, Any]:
    return {**op(version, state, op_id, **extra), "calls_today": calls, "talk_minutes": 0.0, "no_answer": 0}


def snapshot(stream: str, seq: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "snapshot", "v": 1, "stream": stream, "seq": seq, "data": data}


def state(stream: str, seq: int | None, operator: dict[str, Any]) -> dict[str, Any]:
    message = {"type": "operator.state", "v": 1, "stream": stream, "operator": operator, "previous": "available"}
    return message if seq is None else {**message, "seq": seq}


def offer(seq: int, version: int, caller: str = "+39333") -> dict[str, Any]:
    return {"type": "offer", "v": 1, "stream": CONSOLE, "seq": seq, "version": version, "timeout_seconds": 20,
            "card": {"call_id": 1, "service": "Care", "caller": caller, "dialed": "+3902", "waited_seconds": 3.0,
                     "leg": f"leg-{version}"}}


def console(operator: dict[str, Any], card: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"operator": operator, "offer": card, "pause_reasons": [{"id": 1, "name": "Lunch"}], "account": "Acme"}


def board(*operators: dict[str, Any], waiting: int = 0) -> dict[str, Any]:
    return {"services": [{"service": "Care", "service_id": 1, "waiting_now": waiting}], "operators": list(operators),
            "channels": {"in_use": waiting, "limit": 3, "refusals_today": 0}, "at": "2026-03-02T09:00:00+00:00"}


def stats(data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "stats", "v": 1, "stream": BOARD, "data": data}


# (name, page, messages, the state the page must end with, its last number, gaps seen)
CASES: list[tuple[str, str, list[dict[str, Any]], dict[str, Any] | None, int | None, int]] = [
    ("an older version arriving after a newer one is dropped", "console",
     [snapshot(CONSOLE, 10, console(op(1, "available"))), state(CONSOLE, 11, op(3, "paused", pause_source="operator")),
      state(CONSOLE, 12, op(2, "available"))],
     console(op(3, "paused", pause_source="operator")), 12, 0),
    ("an offer shows at the version it rang at", "console",
     [snapshot(CONSOLE, 10, console(op(1, "available"))), state(CONSOLE, 11, op(2, "ringing")), offer(12, 2)],
     console(op(2, "ringing"), offer(12, 2)["card"]), 12, 0),
    ("the offer of an earlier ring, arriving after the operator moved on, is dropped", "console",
     [snapshot(CONSOLE, 10, console(op(1, "available"))), state(CONSOLE, 11, op(2, "ringing")),
      state(CONSOLE, 12, op(3, "available")), offer(13, 2)],
     console(op(3, "available")), 13, 0),
    ("a newer state clears the card", "console",
     [snapshot(CONSOLE, 10, console(op(2, "ringing"), offer(9, 2)["card"])), state(CONSOLE, 11, op(3, "on_call"))],
     console(op(3, "on_call")), 11, 0),
    ("an action's answer older than an event already shown is dropped", "console",
     [snapshot(CONSOLE, 10, console(op(1, "available"))), state(CONSOLE, 11, op(3, "logged_out")),
      state(CONSOLE, None, op(2, "paused", pause_source="operator"))],
     console(op(3, "logged_out")), 11, 0),
    ("a message already in the snapshot, or repeated, is ignored", "console",
     [snapshot(CONSOLE, 10, console(op(2, "available"))), state(CONSOLE, 9, op(1, "logged_out")),
      state(CONSOLE, 10, op(2, "available")), state(CONSOLE, 11, op(3, "paused", pause_source="operator")),
      state(CONSOLE, 11, op(3, "paused", pause_source="operator"))],
     console(op(3, "paused", pause_source="operator")), 11, 0),
    ("a gap waits for the next snapshot", "console",
     [snapshot(CONSOLE, 10, console(op(1, "available"))), state(CONSOLE, 12, op(3, "paused", pause_source="operator")),
      state(CONSOLE, 13, op(4, "available")), snapshot(CONSOLE, 13, console(op(4, "available")))],
     console(op(4, "available")), 13, 1),
    ("the board drops an older operator event", "wallboard",
     [snapshot(BOARD, 5, board(on_board(1, "available"))), state(BOARD, 6, op(3, "paused", pause_source="operator")),
      state(BOARD, 7, op(2, "ringing"))],
     board(on_board(3, "paused", pause_source="operator")), 7, 0),
    ("figures older than the presence shown keep the presence and bring the figures", "wallboard",
     [snapshot(BOARD, 5, board(on_board(1, "available"))), state(BOARD, 6, op(2, "ringing")),
      stats(board(on_board(1, "available", calls=4), waiting=1))],
     board({**on_board(2, "ringing"), "calls_today": 4}, waiting=1), 6, 0),
    ("fresh figures bring the list itself: newcomers, leavers, order", "wallboard",
     [snapshot(BOARD, 5, board(on_board(1, "available"), on_board(1, "paused", op_id=9))),
      state(BOARD, 6, op(2, "ringing")), {"type": "calls.changed", "v": 1, "stream": BOARD, "seq": 7, "account": 3},
      stats(board(on_board(1, "available", op_id=8), on_board(3, "on_call", calls=1)))],
     board(on_board(1, "available", op_id=8), on_board(3, "on_call", calls=1)), 7, 0),
    ("an operator the snapshot did not list is added", "wallboard",
     [snapshot(BOARD, 5, board(on_board(1, "available"))), state(BOARD, 6, op(1, "available", op_id=8))],
     board(on_board(1, "available"), op(1, "available", op_id=8)), 6, 0),
]


@pytest.mark.parametrize(("name", "page", "messages", "final", "last_seq", "gaps"), CASES, ids=[c[0] for c in CASES])
def test_mirror(name, page, messages, final, last_seq, gaps):
    client = StreamClient(page)
    for message in messages:
        client.on_message(message)
    assert (client.state, client.last_seq, client.gaps) == (final, last_seq, gaps)
