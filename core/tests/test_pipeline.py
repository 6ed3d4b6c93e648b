"""Deferred writes: sent with the COMMIT in one round trip, and all-or-nothing."""

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Account
from core.pipeline import DeferredWrites, owns_transaction
from core.roundtrips import count_round_trips
from telephony.models import ProcessedEvent
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_writes_and_commit_leave_in_one_round_trip():
    account = factories.make_account()
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)  # a unit reads (and locks) first
        writes = DeferredWrites()
        account.name = "Renamed"
        writes.save(account, ["name"])
        writes.insert([ProcessedEvent(source="s", event_id=str(n), received_at="2026-01-01T00:00:00Z")
                       for n in range(3)])
        assert owns_transaction()
        with count_round_trips() as rt:
            writes.flush(commit=True)
    assert rt.count == 1, rt.describe()
    assert Account.objects.get(pk=account.pk).name == "Renamed"
    assert ProcessedEvent.objects.filter(source="s").count() == 3


def test_a_failing_write_rolls_back_the_whole_unit():
    account = factories.make_account()
    ProcessedEvent.objects.create(source="s", event_id="taken", received_at="2026-01-01T00:00:00Z")
    with pytest.raises(IntegrityError), transaction.atomic():
        writes = DeferredWrites()
        writes.update(Account, account.pk, name="Never")
        writes.insert([ProcessedEvent(source="s", event_id="taken", received_at="2026-01-01T00:00:00Z")])
        writes.flush(commit=owns_transaction())
    assert Account.objects.get(pk=account.pk).name != "Never"


def test_a_nested_unit_does_not_commit_its_callers_transaction():
    account = factories.make_account()
    with pytest.raises(RuntimeError), transaction.atomic():
        with transaction.atomic():
            assert not owns_transaction()
            writes = DeferredWrites()
            writes.update(Account, account.pk, name="Rolled back")
            writes.flush(commit=owns_transaction())
        raise RuntimeError("the caller fails after the unit")
    assert Account.objects.get(pk=account.pk).name != "Rolled back"
