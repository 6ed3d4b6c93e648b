"""verify_action itself: it fails when a page would show something else than a fresh snapshot."""

from __future__ import annotations

import pytest
from django.db.models import F

from acd.models import Call
from agents.models import Operator
from core.clock import now
from tests import factories

from .verify import verify_action

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def account(clock):
    account = factories.make_account()
    factories.make_service(account, [(factories.make_operator(account, name="Mario"), 5)])
    return account


def test_a_state_change_that_sends_no_event_fails(account):
    with pytest.raises(AssertionError, match="do not give a fresh snapshot"), verify_action(account):
        Operator.objects.filter(account=account).update(state="paused", version=F("version") + 1)


def test_call_figures_that_change_with_no_event_to_refresh_them_fail(account):
    with pytest.raises(AssertionError, match="do not give a fresh snapshot"), verify_action(account):
        Call.objects.create(account=account, service=account.services.get(), engine_ref="silent", state="queued",
                            arrived_at=now(), queued_at=now())


def test_an_action_that_changes_nothing_is_not_a_test_of_it(account):
    with pytest.raises(AssertionError, match="changed nothing"), verify_action(account):
        pass

