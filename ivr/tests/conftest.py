import pytest

from acd.tests.switch import Switch
from tests import factories


@pytest.fixture
def account(db):
    return factories.make_account()


@pytest.fixture
def switch(account, clock):
    return Switch(account, clock)
