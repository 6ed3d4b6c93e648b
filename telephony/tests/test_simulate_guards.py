"""Issue 11, finding 9: `simulate` never writes into a real account, and a scenario that is not UTF-8 is a
readable error, not a traceback."""

import subprocess
import sys

import pytest
from django.conf import settings

from acd.models import Call
from tests import factories
from tests.processes import child_env

pytestmark = pytest.mark.django_db(transaction=True)

SCENARIO = """
name: guard
hours: 0.1
seed: 1
account: {{slug: {slug}, name: "Guard", plan: unlimited-plus}}
operators:
  - {{prefix: g, count: 1, skill: 5}}
services:
  - {{name: Guard, criterion: skill, operators: "*"}}
numbers:
  - {{number: "+390255550001", service: Guard}}
arrivals:
  - {{number: "+390255550001", per_hour: 600}}
"""


def simulate(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "simulate", str(path), "--quiet"], cwd=settings.BASE_DIR,
                          env=child_env(), capture_output=True, text=True, timeout=300)


def test_simulate_refuses_a_real_account(tmp_path):
    real = factories.make_account()
    factories.make_operator(real)  # an operator who signs in with a password: a real account
    path = tmp_path / "guard.yaml"
    path.write_text(SCENARIO.format(slug=real.slug))
    result = simulate(path)
    assert result.returncode != 0
    assert "is a real account" in result.stderr and "Traceback" not in result.stderr
    assert not Call.objects.filter(account=real).exists()


def test_simulate_reuses_its_own_named_account(tmp_path):
    path = tmp_path / "guard.yaml"
    path.write_text(SCENARIO.format(slug="guard-floor"))
    assert simulate(path).returncode == 0
    second = simulate(path)
    assert second.returncode == 0, second.stderr


def test_a_scenario_that_is_not_utf8_is_a_readable_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(SCENARIO.format(slug="caffè").encode("latin-1"))
    result = simulate(path)
    assert result.returncode != 0
    assert "not UTF-8" in result.stderr and "Traceback" not in result.stderr
