"""The log-off after the last console closes: real sockets through the real consumer, a manual clock for
the grace period, the sweep run as beat runs it (twice, and from two threads at once)."""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import threading

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test import Client
from django.urls import reverse

from acd.tests.switch import Switch, only_ring
from agents import actions
from agents.models import ConsolePresence, Operator, OperatorEvent
from agents.tasks import logoff_unattended_consoles_task
from boards.session import session_data
from tests import factories

from .test_consumers import communicator, receive, session_cookie
from .verify import verify_action

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def anna(clock, settings):
    settings.CONSOLE_LOGOFF_GRACE_SECONDS = 120
    account = factories.make_account()
    op = factories.make_operator(account, name="Anna")
    actions.login_operator(op.pk)
    return op


def open_consoles(op: Operator, n: int, then) -> None:
    """Open n console sockets of the operator, run `then(close)` where close(i) closes socket i."""
    async def scenario():
        cookie = await _in_thread(lambda: session_cookie(**session_data(op)))
        comms = [communicator("/ws/console/", cookie) for _ in range(n)]
        for comm in comms:
            connected, _ = await comm.connect()
            assert connected
            assert (await receive(comm))["type"] == "snapshot"

        async def close(i: int) -> None:
            await comms[i].disconnect()

        await then(close)
        for comm in comms:
            await comm.disconnect()
    async_to_sync(scenario)()


async def _in_thread(fn, *args, **kwargs):
    return await asyncio.to_thread(fn, *args, **kwargs)


def presence(op: Operator) -> ConsolePresence:
    return ConsolePresence.objects.get(operator=op)


def test_the_consumer_counts_open_consoles_and_arms_the_log_off_when_the_last_closes(anna):
    """Through the real consumer: the log-off falls due only when the last of two consoles closes, and a
    console that opens again cancels it. (The consumer runs on the wall clock: timing is tested below.)"""
    async def then(close):
        assert await _in_thread(lambda: presence(anna).sockets) == 2
        await close(0)
        row = await _in_thread(presence, anna)
        assert (row.sockets, row.logoff_due_at) == (1, None)  # another console is still open
        await close(1)
        row = await _in_thread(presence, anna)
        assert row.sockets == 0 and row.logoff_due_at is not None

    open_consoles(anna, 2, then)

    async def reopened(close):
        row = await _in_thread(presence, anna)
        assert (row.sockets, row.logoff_due_at) == (1, None)

    open_consoles(anna, 1, reopened)


def closed_console(op: Operator) -> None:
    """A console opens and closes, as the consumer records it (on the test's clock)."""
    actions.console_opened(op.pk)
    actions.console_closed(op.pk)


def test_the_last_console_closing_logs_the_operator_off_after_the_grace(anna, clock):
    closed_console(anna)
    assert presence(anna).logoff_due_at == clock.now() + dt.timedelta(seconds=120)
    clock.advance(119)
    assert logoff_unattended_consoles_task() == 0  # still within the grace
    assert Operator.objects.get(pk=anna.pk).state == "available"
    clock.advance(1)
    with verify_action(anna.account) as verified:
        assert logoff_unattended_consoles_task() == 1
    assert verified.console(anna.pk)["operator"]["state"] == "logged_out"
    event = OperatorEvent.objects.filter(operator=anna).first()
    assert (event.to_state, event.via, event.reason) == ("logged_out", "system", "console closed")
    assert logoff_unattended_consoles_task() == 0  # idempotent: a redelivered sweep changes nothing
    assert OperatorEvent.objects.filter(operator=anna, to_state="logged_out").count() == 1
    assert presence(anna).logoff_due_at is None


def test_a_console_reconnecting_within_the_grace_cancels_the_log_off(anna, clock):
    closed_console(anna)
    clock.advance(60)
    actions.console_opened(anna.pk)  # the page reconnects (a network blip, a reload)
    clock.advance(600)
    assert logoff_unattended_consoles_task() == 0
    assert Operator.objects.get(pk=anna.pk).state == "available"


def test_no_grace_no_log_off(anna, clock, settings):
    settings.CONSOLE_LOGOFF_GRACE_SECONDS = 0
    closed_console(anna)
    clock.advance(3600)
    assert presence(anna).logoff_due_at is None
    assert logoff_unattended_consoles_task() == 0


def test_an_operator_on_a_call_is_logged_off_once_the_call_has_ended(anna, clock):
    service = factories.make_service(anna.account, [(anna, 5)], wrapup_seconds=0)
    number = factories.make_number(anna.account, service)
    switch = Switch(anna.account, clock)
    ref, commands = switch.incoming(number.number)
    switch.answer(ref, only_ring(commands))
    closed_console(anna)
    clock.advance(300)
    assert logoff_unattended_consoles_task() == 0  # never cut a caller off
    assert Operator.objects.get(pk=anna.pk).state == "on_call"
    switch.hangup(ref)
    assert logoff_unattended_consoles_task() == 1
    assert Operator.objects.get(pk=anna.pk).state == "logged_out"


def test_two_sweeps_at_once_log_off_once(anna, clock):
    closed_console(anna)
    clock.advance(121)
    results, barrier = [], threading.Barrier(2)

    def sweep() -> None:
        try:
            barrier.wait()
            results.append(logoff_unattended_consoles_task())
        finally:
            connection.close()

    # Each thread on the test's clock (a thread starts with an empty context).
    threads = [threading.Thread(target=contextvars.copy_context().run, args=(sweep,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    assert OperatorEvent.objects.filter(operator=anna, to_state="logged_out").count() == 1


def test_signing_out_asks_and_does_what_was_chosen(anna, clock):
    client = Client()
    session = client.session
    session.update(session_data(anna))
    session.save()
    page = client.get(reverse("console-logout")).content.decode()
    assert "still logged in" in page and 'value="logoff"' in page and 'value="stay"' in page
    assert "you are logged off after 2 minutes." in page
    italian = client.get(reverse("console-logout"), HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "Scollegati ed esci" in italian and "vieni scollegato dopo 2 minuti." in italian
    assert client.post(reverse("console-logout"), {}).status_code == 409  # no choice made: asked again
    assert client.get(reverse("console")).status_code == 200  # still signed in
    # "Sign out but stay logged in": calls keep ringing the phone, and no log-off follows.
    closed_console(anna)
    assert client.post(reverse("console-logout"), {"choice": "stay"}).url == reverse("console-login")
    assert client.get(reverse("console")).url == reverse("console-login")
    clock.advance(600)
    assert logoff_unattended_consoles_task() == 0
    assert Operator.objects.get(pk=anna.pk).state == "available"
    # Signing in again and out, choosing to log off: logged off at once.
    session = client.session
    session.update(session_data(anna))
    session.save()
    with verify_action(anna.account) as verified:
        client.post(reverse("console-logout"), {"choice": "logoff"})
    assert verified.console(anna.pk)["operator"]["state"] == "logged_out"


def test_signing_out_during_a_call_refuses_to_log_off(anna, clock):
    service = factories.make_service(anna.account, [(anna, 5)], wrapup_seconds=0)
    switch = Switch(anna.account, clock)
    ref, commands = switch.incoming(factories.make_number(anna.account, service).number)
    switch.answer(ref, only_ring(commands))
    client = Client()
    session = client.session
    session.update(session_data(anna))
    session.save()
    answer = client.post(reverse("console-logout"), {"choice": "logoff"})
    assert answer.status_code == 409 and "log off after it ends" in answer.content.decode()
    assert client.get(reverse("console")).status_code == 200  # not signed out either
    assert Operator.objects.get(pk=anna.pk).state == "on_call"
