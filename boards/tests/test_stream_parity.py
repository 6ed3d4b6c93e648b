"""stream.js and its Python twin (stream_mirror) give the same pages from the same messages.

The messages are the crafted out-of-order cases of test_stream_mirror and every message a console and the
wallboard received in a real call scenario under verify_action. Chromium runs stream.js's own functions;
the replay loop below is openStream's onmessage, as StreamClient.on_message is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import sync_playwright

from acd import actions as acd
from agents import actions
from telephony import port
from tests import factories

from .stream_mirror import StreamClient
from .test_stream_mirror import CASES
from .verify import verify_action

STREAM_JS = Path(settings.BASE_DIR) / "boards" / "static" / "boards" / "stream.js"
CHROMIUM = "/usr/bin/chromium"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPLAY = """(cases) => cases.map((c) => {
  const apply = c.page === "console" ? applyConsole : applyWallboard;
  let lastSeq = null, state = null, gaps = 0;
  for (const msg of c.messages) {
    const [what, seq] = sequenceStep(lastSeq, msg);
    lastSeq = seq;
    if (what === "snapshot") state = msg.data;
    else if (what === "gap") gaps += 1;
    else if ((what === "stats" || what === "apply") && state !== null) state = apply(state, msg);
  }
  return {state, last_seq: lastSeq, gaps};
})"""


def recorded_cases(clock) -> list[dict[str, Any]]:
    """A real call's life, every page's messages as verify_action received and applied them."""
    account = factories.make_account()
    mario, giulia = factories.make_operator(account, name="Mario"), factories.make_operator(account, name="Giulia")
    service = factories.make_service(account, [(mario, 5), (giulia, 5)], wrapup_seconds=20, pause_after_misses=1)
    number = factories.make_number(account, service).number
    runs = []

    def run(action, *args, **kwargs):
        with verify_action(account) as verified:
            action(*args, **kwargs)
        runs.append(verified)
        return verified

    run(actions.login_operator, mario.pk)
    run(actions.login_operator, giulia.pk)
    rang = run(acd.handle_event, port.IncomingCall(event_id="r1", call_ref="r", dialed=number, caller="+39333"),
               account_id=account.pk)
    ringing = next(e for e in rang.events if e["type"] == "offer")
    clock.advance(service.ring_timeout_seconds + 6)
    swept = run(acd.sweep, [account.pk])  # the offer expires: auto-pause, the caller rings the other operator
    other = next(e for e in swept.events if e["type"] == "offer")
    assert other["stream"] != ringing["stream"]
    clock.advance(2)
    run(acd.handle_event, port.LegAnswered(event_id="r2", call_ref="r", leg_ref=other["card"]["leg"]),
        account_id=account.pk)
    clock.advance(60)
    run(acd.handle_event, port.Hangup(event_id="r3", call_ref="r"), account_id=account.pk)
    clock.advance(20)
    run(acd.sweep, [account.pk])
    return [{"page": page.client.page, "messages": page.client.received, "state": page.client.state,
             "last_seq": page.client.last_seq, "gaps": page.client.gaps}
            for verified in runs for page in verified.pages.values()]


def crafted_cases() -> list[dict[str, Any]]:
    cases = []
    for _name, page, messages, _final, _last, _gaps in CASES:
        client = StreamClient(page)
        for message in messages:
            client.on_message(message)
        cases.append({"page": page, "messages": messages, "state": client.state, "last_seq": client.last_seq,
                      "gaps": client.gaps})
    return cases


def test_stream_js_and_its_python_twin_agree(clock):

    cases = crafted_cases() + recorded_cases(clock)
    assert len(cases) > 30
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.set_content("<!DOCTYPE html><html><body></body></html>")
        page.add_script_tag(content=STREAM_JS.read_text())
        results = page.evaluate(REPLAY, [{"page": c["page"], "messages": c["messages"]} for c in cases])
        browser.close()
    for case, result in zip(cases, results, strict=True):
        assert result == {"state": case["state"], "last_seq": case["last_seq"], "gaps": case["gaps"]}, (
            f"stream.js and stream_mirror.py part on {case['messages']}")
