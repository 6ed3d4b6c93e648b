"""Processed events and outbound commands are purged past the horizon, in bounded batches, never inside it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from acd import actions as acd
from acd.models import Call
from core.clock import now
from telephony import housekeeping, port
from telephony.models import OutboundCommand, ProcessedEvent
from telephony.retention import check_event_retention
from telephony.tasks import purge_port_records_task
from tests import factories

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def event(source: str, received_at: dt.datetime) -> ProcessedEvent:
    return ProcessedEvent.objects.create(source=source, event_id=f"{source}-{received_at.isoformat()}",
                                         received_at=received_at)


def command(account, created_at: dt.datetime, delivered_at: dt.datetime | None = None) -> OutboundCommand:
    return OutboundCommand.objects.create(account=account, call_ref="c", payload={"type": "hangup_call"},
                                          created_at=created_at, delivered_at=delivered_at)


def test_rows_past_the_horizon_go_and_the_others_stay(clock, settings):
    settings.TELEPHONY_EVENT_RETENTION_HOURS = 72
    account, simulation = factories.make_account(), factories.make_account(is_simulation=True)
    t = now()
    old_event, recent_event = event("a", t - 73 * HOUR), event("a", t - 71 * HOUR)
    gone = [command(account, t - 80 * HOUR, t - 79 * HOUR),  # delivered long ago
            command(account, t - 80 * HOUR)]  # never delivered, for a call long over
    kept = [command(account, t - 80 * HOUR, t - HOUR),  # delivered within the horizon
            command(account, t - 2 * HOUR),
            command(simulation, t - 80 * HOUR)]  # a simulator's clock: still to be drained
    purged = housekeeping.purge()
    assert (purged.events, purged.commands) == (1, 2)
    assert list(ProcessedEvent.objects.values_list("pk", flat=True)) == [recent_event.pk]
    assert sorted(OutboundCommand.objects.values_list("pk", flat=True)) == sorted(c.pk for c in kept)
    assert not ProcessedEvent.objects.filter(pk=old_event.pk).exists()
    assert not OutboundCommand.objects.filter(pk__in=[c.pk for c in gone]).exists()


def test_a_backlog_goes_in_bounded_batches_one_statement_each(clock):
    for n in range(5):
        event("b", now() - (100 + n) * HOUR)
    with CaptureQueriesContext(connection) as queries:
        purged = housekeeping.purge(batch_size=2, max_batches=2)
    assert purged.events == 4 and ProcessedEvent.objects.count() == 1  # the next run takes the rest
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")
               and "processedevent" in q["sql"]]
    assert len(deletes) == 2 and all("LIMIT 2" in sql for sql in deletes)
    assert housekeeping.purge(batch_size=2, max_batches=2).events == 1
    assert not ProcessedEvent.objects.exists()


def test_a_redelivery_within_the_horizon_is_still_recognised(clock, settings):
    settings.TELEPHONY_EVENT_RETENTION_HOURS = 72
    account = factories.make_account()
    number = factories.make_number(account, factories.make_service(account))
    incoming = port.IncomingCall(event_id="once", call_ref="c1", dialed=number.number, caller="+393331234567")
    first = acd.handle_event(incoming, account_id=account.pk)
    clock.advance(71 * 3600)
    housekeeping.purge()
    assert acd.handle_event(incoming, account_id=account.pk) == first  # the stored answer, nothing redone
    assert Call.objects.filter(account=account).count() == 1
    clock.advance(2 * 3600)
    assert purge_port_records_task() >= 1  # the beat task delegates to the same purge
    assert not ProcessedEvent.objects.filter(event_id="once").exists()


def test_a_horizon_within_the_replay_window_is_refused(settings):
    settings.TELEPHONY_EVENT_RETENTION_HOURS = 0.05  # 180 s: a redelivered event could run twice
    with pytest.raises(ImproperlyConfigured, match="replay window"):
        housekeeping.purge()
    [error] = check_event_retention()
    assert error.id == "telephony.E001"
    settings.TELEPHONY_EVENT_RETENTION_HOURS = 0.1  # 360 s
    assert check_event_retention() == []
