"""The simulator: scenario validation, deterministic runs through the production ACD, the command."""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from accounts.models import Account
from acd.actions import handle_event
from acd.models import Call
from agents import actions as presence
from agents.choices import OperatorState
from agents.models import Operator, PauseReason
from core.clock import ManualClock, use_clock
from core.roundtrips import count_round_trips
from simulator.build import build_account
from simulator.engine import Engine
from simulator.items import ItemKind
from simulator.run import simulate
from simulator.scenario import ScenarioError, load, parse
from telephony import port
from tests.processes import test_db_url

pytestmark = pytest.mark.django_db(transaction=True)

SCENARIOS = Path(settings.BASE_DIR) / "scenarios"


def office(**changes):
    doc = yaml.safe_load((SCENARIOS / "office-3.yaml").read_text())
    doc.update(changes)
    return doc


@pytest.mark.parametrize(("change", "message"), [
    ({"operators": [{"prefix": "x", "count": 2, "answer_probability": 1.5}]},
     "operators[0].answer_probability: must be between 0 and 1"),
    ({"services": [{"name": "S", "criterion": "psychic"}]}, "services[0].criterion: 'psychic' is not one of"),
    ({"numbers": [{"number": "02 1234", "service": "Segreteria"}]}, "numbers[0].number"),
    ({"arrivals": [{"number": "+390245678901", "per_hour": [1, 2, 3]}]}, "give one rate or 24"),
    ({"arrivals": [{"number": "0245678901", "per_hour": 5}]}, "arrivals[0].number: '0245678901' is not an E.164"),
    ({"start": "yesterday"}, "start: 'yesterday' is not an ISO date-time"),
    ({"colour": "blue"}, "unknown keys ['colour']"),
    ({"outbound": {"live": 0.5, "busy": 0.1}}, "outbound: the shares must add up to 1"),
])
def test_scenario_errors_name_the_place(change, message):
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(office(**change))


def test_shipped_scenarios_are_valid():
    for name in ("office-3", "center-50", "center-500", "demo"):
        scenario = load(SCENARIOS / f"{name}.yaml")
        assert scenario.arrivals and scenario.services


def test_same_seed_same_day_different_seed_other_day():
    scenario = load(SCENARIOS / "office-3.yaml")
    first = simulate(scenario, seed=3, hours=1.5)
    second = simulate(scenario, seed=3, hours=1.5)
    other = simulate(scenario, seed=4, hours=1.5)
    strip = lambda r: (r["totals"], [{k: v for k, v in s.items() if k != "service_id"} for s in r["services"]])  # noqa: E731
    assert strip(first) == strip(second)
    assert strip(first) != strip(other)
    totals = first["totals"]
    assert totals["calls"] > 10
    voicemail = first["services"][0]["overflow"]["voicemail"]
    assert totals["calls"] == totals["answered"] + totals["abandoned"] + voicemail + totals["rejected"]
    # A Starter plan has 3 channels: callers waiting count too, so peaks are refused (domain.md, seed 000).
    assert totals["peak_concurrent_calls"] <= 3
    assert set(totals["rejected_by_cause"]) <= {"REACH_PLAN_LIMIT"}
    service = first["services"][0]
    assert 0 <= service["service_level"] <= 1 and service["asa_seconds"] >= 0
    assert sum(o["calls"] for o in first["operators"]) == totals["answered"]
    # Everything ran through the production ACD: every call ended, with a queue log.
    calls = Call.objects.filter(account__slug=first["account"])
    assert not calls.exclude(state="ended").exists()
    assert all(c.events.filter(kind="arrived").exists() for c in calls[:20])


def test_a_named_account_outlives_its_runs_without_mixing_them_up():
    """The demo floor's account is reused by every `make run`: a run's event ids and call refs must not be taken
    for the previous run's (a redelivery, an old call), and calls a killed run left live are ended at start."""
    scenario = parse(office(account={"slug": "reused-floor", "name": "Reused floor", "plan": "starter"}))
    first = simulate(scenario, seed=3, hours=1)
    calls_after_first = Call.objects.filter(account__slug="reused-floor").count()
    assert calls_after_first == first["totals"]["calls"] > 5
    account_id = Call.objects.filter(account__slug="reused-floor").values_list("account_id", flat=True).first()
    number = scenario.arrivals[0].number
    with use_clock(ManualClock(dt.datetime.fromisoformat("2026-03-02T09:30:00+01:00"))):
        handle_event(port.IncomingCall(event_id="killed-run-1", call_ref="sim-killed-1", dialed=number,
                                       caller="+390611111111"), account_id=account_id, source=f"sim:{account_id}")
    assert Call.objects.get(engine_ref="sim-killed-1").state != "ended"

    simulate(scenario, seed=3, hours=1)
    assert Call.objects.get(engine_ref="sim-killed-1").state == "ended"
    second_run = Call.objects.filter(account__slug="reused-floor").exclude(engine_ref="sim-killed-1")
    assert second_run.count() == 2 * calls_after_first  # every arrival of the second run is a call of its own
    assert not second_run.exclude(state="ended").exists()


def test_simulate_command_writes_the_report(tmp_path):
    report = tmp_path / "out.json"

    env = {"DATABASE_URL": test_db_url(), "REDIS_URL": settings.REDIS_URL, "PATH": "/usr/bin:/bin",
           "DJANGO_SETTINGS_MODULE": "callcenter.settings_test"}
    result = subprocess.run([sys.executable, "manage.py", "simulate", str(SCENARIOS / "office-3.yaml"), "--hours",
                             "0.5", "--seed", "2", "--quiet", "--report", str(report)], cwd=settings.BASE_DIR,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "office-3:" in result.stdout and "calls" in result.stdout
    doc = json.loads(report.read_text())
    assert {"totals", "services", "operators", "run"} <= set(doc)
    assert doc["seed"] == 2


def test_simulate_command_readable_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\noperators: []\n")
    result = subprocess.run([sys.executable, "manage.py", "simulate", str(bad), "--quiet"], cwd=settings.BASE_DIR,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "Invalid scenario" in result.stderr and "Traceback" not in result.stderr


def _office_engine() -> tuple[Engine, Account]:
    """office-3's floor for a simulation, built but not yet played."""
    scenario = load(SCENARIOS / "office-3.yaml")
    account = build_account(scenario, simulation=True)
    return Engine(scenario, account.pk, seed=1), account


def _answered_call(account: Account, prefix: str) -> port.Ring:
    """Every operator logged in, then one call rung and answered (under the engine's clock)."""
    for op in Operator.objects.filter(account=account):
        presence.login_operator(op.pk)
    ring = next(c for c in handle_event(port.IncomingCall(event_id=f"{prefix}-1", call_ref=f"{prefix}-call",
                                                          dialed="+390245678901", caller="+393471111111"),
                                        account_id=account.pk)
                if isinstance(c, port.Ring))
    handle_event(port.LegAnswered(event_id=f"{prefix}-2", call_ref=f"{prefix}-call", leg_ref=ring.leg_ref),
                 account_id=account.pk)
    return ring


def test_an_operator_on_a_call_takes_the_break_later_without_a_refused_pause():
    """A refused action rolls back, and a rollback costs the connection every prepared statement."""
    engine, account = _office_engine()
    with use_clock(engine.clock):
        ring = _answered_call(account, "b")
        talking = Operator.objects.get(account=account, endpoint=ring.endpoint)
        assert talking.state == OperatorState.ON_CALL
        with count_round_trips() as rt:
            engine._on_break(talking.pk, "seg")
    assert not [m for trip in rt.trips for m in trip if "ROLLBACK" in m], rt.describe()
    talking.refresh_from_db()
    assert talking.state == OperatorState.ON_CALL
    assert [(i.kind, i.at - engine.now) for i in engine.heap] == [("break", dt.timedelta(seconds=60))]


def test_a_sweep_learns_the_next_deadline_from_its_last_commit_and_a_superseded_one_asks_nothing():
    """The sweep's units each commit with the next-deadline read riding along (`read_after_commit`): a sweep
    costs what is due and its units, no lookup of its own; a sweep an earlier one superseded costs nothing."""
    engine, account = _office_engine()
    with use_clock(engine.clock):
        ring = _answered_call(account, "w")
        engine.clock.advance(30)
        handle_event(port.Hangup(event_id="w-3", call_ref="w-call"), account_id=account.pk)
        operator = Operator.objects.get(account=account, endpoint=ring.endpoint)
        assert operator.state == OperatorState.WRAP_UP
        wrapped = operator.wrapup_until
        engine.next_sweep = wrapped
        engine.at(wrapped - dt.timedelta(seconds=5), ItemKind.SWEEP, due=wrapped - dt.timedelta(seconds=5))
        engine.at(wrapped, ItemKind.SWEEP, due=wrapped)
        engine.outbox_pending = False  # drained when the day began
        with count_round_trips() as rt:
            engine._loop()
    operator.refresh_from_db()
    assert operator.state == OperatorState.AVAILABLE  # the sweep ran the real wrap-up end
    assert engine.next_sweep is None and engine.heap == []  # nothing else is due: no sweep planned
    # The superseded sweep: nothing. The other: what is due (1), the operator's unit: its locks (1), its writes
    # and COMMIT with the next deadline's read behind it (1). No lookup of the deadline after the sweep.
    assert rt.count == 3, rt.describe()


def test_breaks_take_the_accounts_first_reason_read_once_and_again_after_it_was_withdrawn():
    scenario = load(SCENARIOS / "office-3.yaml")
    account = build_account(scenario, simulation=True)
    coffee = PauseReason.objects.create(account=account, name="Caffè")
    PauseReason.objects.create(account=account, name="Riunione")
    engine = Engine(scenario, account.pk, seed=1)
    first, second, third = Operator.objects.filter(account=account).order_by("id")
    with use_clock(engine.clock):
        for op in (first, second, third):
            presence.login_operator(op.pk)
        engine._on_break(first.pk, "seg")
        with count_round_trips() as rt:
            engine._on_break(second.pk, "seg")
        picked = 'ORDER BY "agents_pausereason"."name" ASC LIMIT 1'  # the engine's pick, not the action's check
        assert not [m for trip in rt.trips for m in trip if picked in m], rt.describe()  # not read again
        PauseReason.objects.filter(pk=coffee.pk).update(is_active=False)  # withdrawn at the admin meanwhile
        engine._on_break(third.pk, "seg")  # refused: the reason is gone; tried again a minute later
        assert Operator.objects.get(pk=third.pk).state == OperatorState.AVAILABLE
        engine.clock.advance(60)
        engine._on_break(third.pk, "seg")
    paused = Operator.objects.filter(account=account, state=OperatorState.PAUSED).order_by("id")
    assert [(op.pk, op.pause_reason.name) for op in paused] == [(first.pk, "Caffè"), (second.pk, "Caffè"),
                                                                (third.pk, "Riunione")]
