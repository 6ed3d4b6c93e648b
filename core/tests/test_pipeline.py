"""Deferred writes: sent with the COMMIT in one round trip, and all-or-nothing."""

import pytest
from django.db import IntegrityError, models, transaction

from accounts.models import Account
from core.pipeline import DeferredWrites, owns_transaction, read_after_commit
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


def test_plain_writes_built_once_per_shape_store_what_the_orm_stores():
    """The kept SQL (core.pipeline's shapes) writes the same values as the ORM: JSON, NULL, a foreign key
    by its column, several rows with and without their key, and an expression still takes the ORM's path."""
    reseller, account = factories.make_account(), factories.make_account()
    rows = [ProcessedEvent(source="shape", event_id=str(n), received_at="2026-01-01T00:00:00Z",
                           commands=[{"type": "ring", "n": n}, None]) for n in range(2)]
    first = ProcessedEvent.objects.create(source="k", event_id="0", received_at="2026-01-01T00:00:00Z")
    keyed = ProcessedEvent(pk=first.pk + 1000, source="shape", event_id="keyed", received_at="2026-01-02T00:00:00Z")
    with transaction.atomic():
        writes = DeferredWrites()
        writes.insert(rows)
        writes.insert([keyed])
        writes.update(Account, account.pk, parent_id=reseller.pk, extra_channels=3)
        writes.update(Account, reseller.pk, parent=None, extra_channels=models.F("extra_channels") + 2)
        sent = [sql for sql, _params in writes.statements]
        assert "UNNEST" not in sent[0] and sent[0].count("), (") == 1  # the kept shape, not the compiler's
        assert '"extra_channels" + ' in sent[3]  # the expression went through the ORM
        writes.flush(commit=owns_transaction())
    stored = {e.event_id: e for e in ProcessedEvent.objects.filter(source="shape")}
    assert {k: (e.commands, e.received_at.isoformat()) for k, e in stored.items()} == {
        "0": ([{"type": "ring", "n": 0}, None], "2026-01-01T00:00:00+00:00"),
        "1": ([{"type": "ring", "n": 1}, None], "2026-01-01T00:00:00+00:00"),
        "keyed": ([], "2026-01-02T00:00:00+00:00")}
    assert stored["keyed"].pk == keyed.pk
    account.refresh_from_db()
    reseller.refresh_from_db()
    assert (account.parent_id, account.extra_channels) == (reseller.pk, 3)
    assert (reseller.parent_id, reseller.extra_channels) == (None, 2)


def test_a_read_after_commit_rides_with_the_commit_and_sees_what_it_committed():
    account = factories.make_account()
    count = ("SELECT count(*) FROM telephony_processedevent WHERE source = %(source)s", {"source": "after"})
    with read_after_commit(*count) as probe:
        with transaction.atomic():
            Account.objects.select_for_update().get(pk=account.pk)  # a unit reads (and locks) first
            writes = DeferredWrites()
            writes.insert([ProcessedEvent(source="after", event_id=str(n), received_at="2026-01-01T00:00:00Z")
                           for n in range(2)])
            writes.update(Account, account.pk, name="Renamed")
            with count_round_trips() as rt:
                writes.flush(commit=owns_transaction())
        assert rt.count == 1, rt.describe()
        assert probe.fresh and probe.rows == [(2,)]
        probe.fresh = False
        with pytest.raises(IntegrityError), transaction.atomic():  # a unit that fails: nothing read
            writes = DeferredWrites()
            writes.insert([ProcessedEvent(source="after", event_id="0", received_at="2026-01-01T00:00:00Z")])
            writes.flush(commit=owns_transaction())
        assert not probe.fresh
    with transaction.atomic():  # outside the block: no read rides along
        writes = DeferredWrites()
        writes.update(Account, account.pk, name="Again")
        with count_round_trips() as rt:
            writes.flush(commit=owns_transaction())
    assert not [m for trip in rt.trips for m in trip if "processedevent" in m], rt.describe()
