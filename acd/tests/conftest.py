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
def account(db):
    return factories.make_account()


@pytest.fixture
def switch(account, clock):
    return Switch(account, clock)
