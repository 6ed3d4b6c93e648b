"""A two-level menu end to end through the simulator (the production ACD, the scenario's callers pressing
keys by its choice distribution): the path stored on each call, the whisper played, statistics per option."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from acd.models import Call
from ivr.models import Menu
from ivr.stats import option_counts
from simulator.run import simulate
from simulator.scenario import ScenarioError, load, parse

pytestmark = pytest.mark.django_db(transaction=True)

SCENARIO = Path(settings.BASE_DIR) / "scenarios" / "menu-2-levels.yaml"


def test_callers_go_through_the_two_level_menu_in_the_simulator():
    scenario = load(SCENARIO)
    report = simulate(scenario, hours=0.5)
    calls = Call.objects.filter(account__slug=report["account"])
    paths = Counter(tuple(step["label"] for step in call.menu_path) for call in calls)
    assert paths[("Vendite",)] > 0 and paths[("Assistenza", "Guasti")] > 0 and paths[("Assistenza", "Fatture")] > 0
    for call in calls.filter(service__name="Guasti"):
        assert [s["label"] for s in call.menu_path] == ["Assistenza", "Guasti"]
    answered = calls.filter(answered_at__isnull=False)
    assert answered.exists()
    whispers = report["run"]["whispers"]
    # Vendite and Guasti ask for the whisper (the labels, no prompt uploaded); Fatture does not.
    assert set(whispers) <= {"Vendite", "Assistenza, Guasti"} and whispers.get("Assistenza, Guasti", 0) > 0
    top = Menu.objects.get(account__slug=report["account"], name="Principale")
    counts = option_counts(top, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
    by_digit = {o["digit"]: o["count"] for o in counts["options"]}
    assert by_digit["1"] == sum(1 for c in calls if c.menu_path[:1] and c.menu_path[0]["digit"] == "1")
    assert by_digit["2"] == sum(1 for c in calls if c.menu_path[:1] and c.menu_path[0]["digit"] == "2")


def test_scenario_menus_are_validated_with_the_place_named():
    doc = {"operators": [{"prefix": "x", "count": 1}], "services": [{"name": "S"}],
           "numbers": [{"number": "+390299990001", "menu": "M"}],
           "arrivals": [{"number": "+390299990001", "per_hour": 1}],
           "menus": [{"name": "M", "options": [{"digit": "1", "service": "Nope"}]}]}
    with pytest.raises(ScenarioError, match=r"menus\[0\].options\[0\].service: no service named 'Nope'"):
        parse(doc)
    doc["menus"] = [{"name": "M", "options": [{"digit": "1", "service": "S"}], "choices": {"1": 0.5}}]
    with pytest.raises(ScenarioError, match="add up to 1"):
        parse(doc)
    doc["menus"] = [{"name": "Other", "options": []}]
    with pytest.raises(ScenarioError, match="'M' is not in menus"):
        parse(doc)
