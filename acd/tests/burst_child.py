"""A child process of the budget burst test: set up, wait for the start signal, fire first calls at once.

Run as `python -m acd.tests.burst_child <ready-file> <go-file> <tag> <account>:<number> ...`; each call
runs in its own thread with its own database connection, as a server process's request threads do, so
all the calls of all the children are in flight together. Prints one JSON line: the commands' kinds per
call, and every exception raised (there must be none).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcenter.settings")
django.setup()

from django.db import connection  # noqa: E402

from acd.actions import handle_event  # noqa: E402
from telephony import port  # noqa: E402


def _fire(target: str, ref: str, caller: str, started: threading.Barrier, answers: list, errors: list) -> None:
    account_id, number = target.split(":")
    try:
        connection.ensure_connection()  # connected before the signal: the calls start together
        started.wait()
        commands = handle_event(port.IncomingCall(event_id=f"{ref}-in", call_ref=ref, dialed=number,
                                                  caller=caller), account_id=int(account_id))
        answers.append([c.type for c in commands])
    except Exception:  # reported to the test, which fails on any
        errors.append(traceback.format_exc()[-1500:])
    finally:
        connection.close()


def main() -> None:
    ready, go, tag, *targets = sys.argv[1:]
    answers: list = []
    errors: list = []
    gate = threading.Barrier(len(targets) + 1)
    threads = [threading.Thread(target=_fire, args=(t, f"{tag}-{i}", f"+39333{i:07d}", gate, answers, errors))
               for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    open(ready, "w").close()
    deadline = time.monotonic() + 120
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            raise SystemExit("no start signal")
        time.sleep(0.002)
    gate.wait()
    for thread in threads:
        thread.join()
    sys.stdout.write(json.dumps({"answers": answers, "errors": errors}) + "\n")


if __name__ == "__main__":
    main()
