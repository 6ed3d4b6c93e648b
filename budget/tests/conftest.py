import pytest

from acd.tests.switch import Switch
from tests import factories


@pytest.fixture
def starter(db):
    """An account on the Starter plan: 3 concurrent calls."""
    return factories.make_account(plan_code="starter")


@pytest.fixture
def switch(starter, clock):
    return Switch(starter, clock)
