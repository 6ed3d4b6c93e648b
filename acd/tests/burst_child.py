"""A child process of the budget burst test: set up, wait for the start signal, fire first calls at once.

Run as `python -m acd.tests.burst_child <ready-file> <go-file> <tag> <account>:<number> ...`; prints one
JSON line: the commands' kinds per call, and every exception raised (there must be none).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings")
django.setup()

from django.db import connection  # noqa: E402

from acd.actions import handle_event  # noqa: E402
from telephony import port  # noqa: E402


def main() -> None:
    ready, go, tag, *targets = sys.argv[1:]
    connection.ensure_connection()  # connected before the signal: the calls start together
    open(ready, "w").close()
    deadline = time.monotonic() + 120
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            raise SystemExit("no start signal")
        time.sleep(0.002)
    answers, errors = [], []
    for i, target in enumerate(targets):
        account_id, number = target.split(":")
        ref = f"{tag}-{i}"
        try:
            commands = handle_event(port.IncomingCall(event_id=f"{ref}-in", call_ref=ref, dialed=number,
                                                      caller=f"+39333{i:07d}"), account_id=int(account_id))
            answers.append([c.type for c in commands])
        except Exception:  # reported to the test, which fails on any
            errors.append(traceback.format_exc()[-1500:])
    print(json.dumps({"answers": answers, "errors": errors}))


if __name__ == "__main__":
    main()
