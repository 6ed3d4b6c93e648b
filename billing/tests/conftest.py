import pytest

from acd.tests.switch import Switch, start_clock
from core.clock import use_clock
from tests import factories


@pytest.fixture
def clock():
    clock = start_clock()
    with use_clock(clock):
        yield clock


@pytest.fixture
def starter(db):
    """An account on the Starter plan: 3 concurrent calls."""
    return factories.make_account(plan_code="starter")


@pytest.fixture
def switch(starter, clock):
    return Switch(starter, clock)
