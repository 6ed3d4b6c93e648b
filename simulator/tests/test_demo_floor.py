"""The demo floor plays on the demo account, so the demo supervisor watches it beside the people trying it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from accounts.models import Account
from agents import actions as presence
from agents.models import Operator
from callcenter.demo import load_demo
from simulator.build import build_account
from simulator.engine import Engine
from simulator.scenario import load

pytestmark = pytest.mark.django_db


def test_the_demo_supervisor_supervises_the_simulated_floor(clock, settings):
    settings.DEBUG = True  # demo mode: the only mode in which a scenario may play beside people
    load_demo()
    scenario = load(settings.BASE_DIR / "scenarios" / "demo.yaml")
    floor = build_account(scenario, simulation=False)
    demo = Account.objects.get(slug="demo")
    assert floor == demo
    supervisor = get_user_model().objects.get(username="supervisor")
    assert supervisor.membership.account == floor
    logins = set(Operator.objects.filter(account=demo).values_list("login", flat=True))
    assert {"mario", "agente1", "agente6"} <= logins
    assert build_account(scenario, simulation=False) == demo  # built once: a second run adds nothing
    assert Operator.objects.filter(account=demo).count() == len(logins)
    # The simulation drives its own operators only: a person logged in at a console is left alone.
    mario = Operator.objects.get(account=demo, login="mario")
    presence.login_operator(mario.pk)
    engine = Engine(scenario, demo.pk, seed=1, speed="max", hours=0.01)
    engine.run()
    mario.refresh_from_db()
    assert mario.state == "available"
    assert {op.login for op, _g in engine._simulated_operators()} == {
        *(f"agente{i}" for i in range(1, 7)), *(f"venditore{i}" for i in range(1, 5))}


def test_outside_demo_mode_the_floor_never_plays_on_the_peoples_account(settings):
    settings.DEBUG = True
    load_demo()
    settings.DEBUG = False  # production: the scenario's own word is not enough
    scenario = load(settings.BASE_DIR / "scenarios" / "demo.yaml")
    with pytest.raises(ValidationError, match="is a real account"):
        build_account(scenario, simulation=False)
    assert not Operator.objects.filter(account__slug="demo", login="agente1").exists()
