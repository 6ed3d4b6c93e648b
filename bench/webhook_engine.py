"""One engine of the `webhook` benchmark: whole answered calls over the signed webhook, one after another.

Run as its own process by bench_webhook.py (so eight of them are eight interpreters, as eight PBXs would be).
Each call: incoming_call → (prompt_finished when the answer plays a welcome and asks to be told) →
leg_ringing → leg_answered → hangup, each event a signed POST on one kept-alive HTTP connection. Prints one
JSON line: calls answered, calls that found nobody, every event's latency, the seconds measured.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from telephony.signing import signed_headers  # plain hmac: no Django in the engines

PATH = "/api/v1/telephony/events/"


class Engine:
    def __init__(self, port: int, account: str, secret: str, tag: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.account, self.secret, self.tag = account, secret, tag
        self.seq = 0
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def post(self, event: dict) -> list[dict]:
        self.seq += 1
        event["event_id"] = f"{self.tag}-e{self.seq}"
        body = json.dumps(event).encode()
        headers = signed_headers(self.account, self.secret, body, time.time())
        started = time.perf_counter()
        self.conn.request("POST", PATH, body=body, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        self.latencies.append(time.perf_counter() - started)
        if response.status != 200:
            self.errors.append(f"{response.status} {payload[:200]!r}")
            return []
        return json.loads(payload)["commands"]

    def call(self, n: int, dialed: str) -> bool:
        ref = f"{self.tag}-c{n}"
        commands = self.post({"type": "incoming_call", "call_ref": ref, "dialed": dialed,
                              "caller": f"+39347{n % 10_000_000:07d}"})
        if any(c["type"] == "play" and c.get("notify") for c in commands):
            prompt = next(c["prompt"] for c in commands if c["type"] == "play" and c.get("notify"))
            commands = self.post({"type": "prompt_finished", "call_ref": ref, "prompt": prompt})
        ring = next((c for c in commands if c["type"] == "ring"), None)
        if ring is None:
            self.post({"type": "hangup", "call_ref": ref})
            return False
        self.post({"type": "leg_ringing", "call_ref": ref, "leg_ref": ring["leg_ref"]})
        self.post({"type": "leg_answered", "call_ref": ref, "leg_ref": ring["leg_ref"]})
        self.post({"type": "hangup", "call_ref": ref})
        return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--dialed", required=True)
    parser.add_argument("--tag", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--start-at", type=float, default=0.0, help="wall time to start measuring (all together)")
    parser.add_argument("--interval", type=float, default=0.0,
                        help="seconds from one call's start to the next (0: back to back; bench-soak paces)")
    args = parser.parse_args()
    engine = Engine(args.port, args.account, args.secret, args.tag)
    n = 0
    for _ in range(args.warmup):
        n += 1
        engine.call(n, args.dialed)
    engine.latencies, engine.errors = [], []
    while time.time() < args.start_at:
        time.sleep(0.01)
    answered = unanswered = 0
    started = time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        if args.interval:
            time.sleep(max(0.0, started + n * args.interval - time.perf_counter()))
        n += 1
        if engine.call(n, args.dialed):
            answered += 1
        else:
            unanswered += 1
    elapsed = time.perf_counter() - started
    print(json.dumps({"answered": answered, "unanswered": unanswered, "latencies": engine.latencies,
                      "errors": engine.errors[:5], "error_count": len(engine.errors), "seconds": elapsed}))


if __name__ == "__main__":
    main()
