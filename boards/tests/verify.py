"""`verify_action`: initial snapshot + the action's published events = a fresh snapshot (after Zulip's
zerver/tests/test_events.py).

Around an action it takes, for one account, the snapshot every console (each operator) and the wallboard
would get on connect, listens to their streams on the real Redis channel layer, runs the action (in a
transactional test, so it commits and its events leave after the commit, as in production), takes every
event it published, as JSON text exactly as a socket sends it, applies them with stream_mirror (the Python
twin of stream.js), and asserts that each page ends equal to a fresh snapshot.

The wallboard's call figures (services, channels, each operator's calls today, talk minutes, no-answer
count) are not carried by events: any event on the account's stream (an operator change, or the small
`calls.changed` hint that every call-log write sends) makes the server push, debounced to one a second, a
`stats` message built after the commit. verify_action follows that rule: first it checks the operators'
presence as the events alone left it; then, if and only if the wallboard received at least one event, it
applies a `stats` message built the way the consumer builds it, and compares the whole board. A change of
the figures with no event at all would leave the board stale, and fails the comparison.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pprint
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from accounts.models import Account
from agents.models import Operator
from boards.snapshots import console_snapshot, wallboard_snapshot
from core.events import account_group, operator_group, publisher
from core.protocol import encode
from core.sequence import current_seq

from .stream_mirror import OPERATOR_FIGURES, Message, State, StreamClient

MARKER = "verify.marker"


@dataclass
class Page:
    stream: str
    client: StreamClient
    build: Callable[[], dict[str, Any]]
    before: State | None = None


@dataclass
class Verified:
    """What the action published, for further assertions: every event in order of arrival, per stream."""

    events: list[Message] = field(default_factory=list)
    pages: dict[str, Page] = field(default_factory=dict)

    def of(self, stream: str) -> list[Message]:
        return [e for e in self.events if e["stream"] == stream]

    def console(self, operator_id: int) -> State:
        return self.pages[operator_group(operator_id)].client.state

    def wallboard(self, account_id: int) -> State:
        return self.pages[account_group(account_id)].client.state


def _message(kind: str, stream: str, **fields: Any) -> Message:
    """A server message as a socket receives it: encoded by the server's own encoder, then parsed."""
    return json.loads(encode(kind, stream, **fields))


def _snapshot(page: Page) -> Message:
    seq = current_seq(page.stream)  # the consumer's order: the number first, then the data
    return _message("snapshot", page.stream, seq=seq, data=page.build())


def _without_time(board: State) -> State:
    return {k: v for k, v in board.items() if k != "at"}  # when it was built; no page shows it


def _presence(board: State) -> list[State]:
    return [{k: v for k, v in o.items() if k not in OPERATOR_FIGURES} for o in board["operators"]]


def _drain(channel: str) -> list[dict[str, Any]]:
    """Every message queued for the channel so far: a marker sent after the publisher's flush comes last."""
    layer = get_channel_layer()
    token = uuid.uuid4().hex

    async def drain() -> list[dict[str, Any]]:
        await layer.send(channel, {"type": MARKER, "token": token})
        out = []
        while True:
            message = await asyncio.wait_for(layer.receive(channel), 5)
            if message.get("type") == MARKER and message.get("token") == token:
                return out
            out.append(message)

    return async_to_sync(drain)()


def _mismatch(what: str, shown: Any, fresh: Any, events: list[Message]) -> str:
    return (f"{what}: the events applied as stream.js applies them do not give a fresh snapshot\n"
            f"EVENTS:\n{pprint.pformat(events)}\nAPPLIED:\n{pprint.pformat(shown)}\nFRESH:\n{pprint.pformat(fresh)}")


@contextlib.contextmanager
def verify_action(account: Account, *, state_change_expected: bool = True) -> Iterator[Verified]:
    """Run the `with` block's action and check every console of the account and its wallboard."""
    layer = get_channel_layer()
    # Events of earlier actions still queued in this process's publisher would reach the groups joined below
    # and pass for this action's (under load a login's event arrived inside the next window): send them first.
    publisher.flush()
    pages = [Page(operator_group(op_id), StreamClient("console"), lambda op_id=op_id: console_snapshot(op_id))
             for op_id in Operator.objects.filter(account=account).order_by("pk").values_list("pk", flat=True)]
    board = Page(account_group(account.pk), StreamClient("wallboard"), lambda: wallboard_snapshot(account.pk))
    pages.append(board)
    channel = async_to_sync(layer.new_channel)()
    for page in pages:
        async_to_sync(layer.group_add)(page.stream, channel)
    for page in pages:  # as a consumer does: join the group, then send the snapshot
        page.client.on_message(_snapshot(page))
        page.before = page.client.state
    verified = Verified(pages={p.stream: p for p in pages})
    try:
        yield verified
        publisher.flush()
        by_stream = verified.pages
        for message in _drain(channel):
            assert message["type"] == "centralino.event", message
            event = json.loads(message["text"])
            verified.events.append(event)
            by_stream[event["stream"]].client.on_message(event)
    finally:
        for page in pages:
            async_to_sync(layer.group_discard)(page.stream, channel)
    _check(verified, board, state_change_expected)


def _check(verified: Verified, board: Page, state_change_expected: bool) -> None:
    events = verified.events
    for page in verified.pages.values():
        assert page.client.gaps == 0, f"{page.stream}: a gap in sequence numbers\n{pprint.pformat(events)}"
    fresh = {page.stream: _snapshot(page)["data"] for page in verified.pages.values()}
    for page in verified.pages.values():
        if page is not board:
            assert page.client.state == fresh[page.stream], _mismatch(page.stream, page.client.state,
                                                                       fresh[page.stream], events)
    shown, now_board = board.client.state, fresh[board.stream]
    assert _presence(shown) == _presence(now_board), _mismatch(f"{board.stream} (operators' presence)",
                                                               _presence(shown), _presence(now_board), events)
    if len(board.client.received) > 1:  # beyond its snapshot: the server follows any event with figures
        board.client.on_message(_message("stats", board.stream, data=now_board))
    assert _without_time(board.client.state) == _without_time(now_board), _mismatch(
        board.stream, board.client.state, now_board, events)
    if state_change_expected:
        changed = [p.stream for p in verified.pages.values()
                   if _without_time(p.before) != _without_time(p.client.state)]
        assert changed, f"the action changed nothing on any page: the test does not exercise it\n{events}"
    else:
        for page in verified.pages.values():
            assert _without_time(page.before) == _without_time(page.client.state), (
                f"{page.stream} changed although no change was expected\n{pprint.pformat(events)}")
