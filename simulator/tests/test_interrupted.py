"""A real-time simulation stopped mid-day (Ctrl-C, or SIGTERM from honcho or a benchmark) leaves a clean floor:
it hangs up the calls it still carries, as a PBX that shuts down drops its calls, and logs its operators off.

Before, the calls it left up kept their channels and their operators, on a call or ringing a phone nobody would
pick up, for hours: the realtime account is swept by Celery, but only the lease reconciler ends a call whose
engine has gone, and the simulator sends no `call_alive` (bench-soak found an operator left ringing)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import yaml
from django.conf import settings

from acd.models import Call
from agents.choices import OperatorState
from agents.models import Operator
from tests.faults.invariants import floor_violations
from tests.processes import child_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.multiprocess]

SLUG = "interrupted-floor"
# Calls arrive every second or so, operators answer after 1 to 3 rings and talk for minutes: when it is stopped,
# some calls are talking and some ringing.
SCENARIO = {
    "name": "interrupted", "start": "2026-03-02T08:00:00+01:00", "hours": 1, "seed": 5,
    "account": {"slug": SLUG, "name": "Interrupted floor", "plan": "unlimited-plus", "timezone": "Europe/Rome"},
    "operators": [{"prefix": "agent", "count": 6, "skill": 5, "answer_probability": 1.0,
                   "answer_delay_rings": [1, 3]}],
    "services": [{"name": "Help", "criterion": "longest_idle", "operators": "*", "wrapup_seconds": 5,
                  "max_wait_seconds": 600, "overflow_action": "voicemail"}],
    "numbers": [{"number": "+390245600001", "service": "Help"}],
    "arrivals": [{"number": "+390245600001", "per_hour": 3600}],
    "callers": {"patience_seconds": {"mean": 900}, "handle_seconds": {"mean": 900}},
}


def busy_floor() -> bool:
    states = set(Operator.objects.filter(account__slug=SLUG).values_list("state", flat=True))
    return {OperatorState.ON_CALL, OperatorState.RINGING} <= states


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stopped_realtime_simulation_hangs_up_its_calls_and_frees_its_operators(tmp_path, stop):
    scenario = tmp_path / "interrupted.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    run = subprocess.Popen([sys.executable, "manage.py", "simulate", str(scenario), "--speed", "realtime", "--quiet"],
                           cwd=settings.BASE_DIR, env=child_env(DJANGO_SETTINGS_MODULE="callcenter.settings_test"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not busy_floor():
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "the floor never had a call talking and one ringing"
            time.sleep(0.3)
        run.send_signal(stop)
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err, err
    account = Call.objects.filter(account__slug=SLUG).values_list("account", flat=True).first()
    calls = Call.objects.filter(account_id=account)
    assert calls.count() >= 2
    assert not calls.exclude(state="ended").exists(), list(calls.exclude(state="ended").values("engine_ref", "state"))
    assert floor_violations(calls.first().account) == []
    stuck = Operator.objects.filter(account_id=account).exclude(state=OperatorState.LOGGED_OUT)
    assert not stuck.exists(), list(stuck.values("login", "state"))
