"""Deliveries by a real Celery worker (a separate prefork process on the Redis broker) to a real HTTP endpoint
on a free loopback port, which the worker's settings allow (OUTGOING_EVENTS_ALLOWED_HOSTS): signatures that
the `standardwebhooks` library verifies, retries with exponential back-off, a call's events in order, and a
failing endpoint paused and its supervisors told."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from standardwebhooks import Webhook

from acd.actions import handle_event
from agents import actions as presence
from core.outgoing import EventType
from integrations import actions
from integrations.choices import DeliveryState
from integrations.models import Delivery, Subscription
from integrations.tasks import sweep_deliveries_task
from integrations.tests.factories import subscribe
from integrations.tests.receiver import Receiver
from telephony import port
from tests import factories
from tests.processes import child_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.multiprocess]

BASE = 0.4  # the worker's back-off base, seconds


def start_worker(queue: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "callcenter", "worker", "--pool", "prefork", "--concurrency", "2",
         "-Q", queue, "-l", "warning", "--without-heartbeat", "--without-mingle", "--without-gossip"],
        cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=child_env(OUTGOING_EVENTS_ALLOWED_HOSTS="127.0.0.1", OUTGOING_EVENTS_RETRY_BASE_SECONDS=str(BASE),
                      **env))


def sweep_until(queue: str, done, timeout: float = 90.0) -> None:
    """What beat does every second, faster: queue the sweep on the test's own queue until `done()`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        sweep_deliveries_task.apply_async(queue=queue)
        time.sleep(0.25)
    rows = list(Delivery.objects.values_list("event_type", "state", "attempts", "last_error"))
    subs = list(Subscription.objects.values_list("paused_at", "pause_reason", "notified_at"))
    raise AssertionError(f"the deliveries did not finish in time: {rows} {subs}")


def a_call(account) -> None:
    """An operator logs in; a call arrives, rings, is answered and hung up (the engine's events)."""
    op = factories.make_operator(account)
    number = factories.make_number(account, factories.make_service(account, [(op, 5)]))
    presence.login_operator(op.pk)
    ref = f"hook-{uuid.uuid4().hex[:8]}"
    commands = handle_event(port.IncomingCall(event_id=f"{ref}-1", call_ref=ref, dialed=number.number,
                                              caller="+390612345678"), account_id=account.pk)
    (ring,) = [c for c in commands if isinstance(c, port.Ring)]
    handle_event(port.LegAnswered(event_id=f"{ref}-2", call_ref=ref, leg_ref=ring.leg_ref), account_id=account.pk)
    handle_event(port.Hangup(event_id=f"{ref}-3", call_ref=ref), account_id=account.pk)


def test_signed_deliveries_are_retried_with_back_off_and_keep_each_calls_order():
    def answer(path, payload, earlier) -> int:  # the call's first event fails twice, then is taken
        failed = sum(1 for r in earlier if r.payload["type"] == "call.arrived")
        return 500 if payload["type"] == "call.arrived" and failed < 2 else 200

    receiver = Receiver(answer)
    account = factories.make_account()
    subscription = subscribe(account, receiver.url(), [EventType.CALL_ARRIVED, EventType.CALL_ANSWERED,
                                                       EventType.CALL_ENDED, EventType.OPERATOR_STATE_CHANGED])
    a_call(account)
    assert Delivery.objects.filter(subscription=subscription).count() == 7
    queue = f"test-{uuid.uuid4().hex}"
    worker = start_worker(queue)
    try:
        sweep_until(queue, lambda: not Delivery.objects.filter(state=DeliveryState.PENDING).exists())
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
        receiver.close()
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}, errors
    verifier = Webhook(subscription.secret)
    for request in receiver.requests:  # every request, failed or not, is signed per Standard Webhooks
        assert verifier.verify(request.body, request.headers) == request.payload
        assert request.headers["webhook-id"].startswith("msg_")
    taken = [r.payload for r in receiver.requests if r.status == 200]
    assert [p["type"] for p in taken if p["type"].startswith("call.")] == ["call.arrived", "call.answered",
                                                                          "call.ended"]
    assert [p["data"]["operator"]["state"] for p in taken if p["type"] == "operator.state_changed"] == [
        "available", "ringing", "on_call", "wrap_up"]
    first = Delivery.objects.get(event_type=EventType.CALL_ARRIVED)
    log = list(first.attempt_log.values_list("status", flat=True))
    assert (first.attempts, log) == (3, [500, 500, 200])
    tries = [r for r in receiver.requests if r.payload["type"] == "call.arrived"]
    assert len({r.headers["webhook-id"] for r in tries}) == 1  # a retry is the same message
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(tries)]
    assert gaps[0] >= BASE * 0.9 and gaps[1] >= 2 * BASE * 0.9, gaps  # base, then twice the base
    assert Subscription.objects.get(pk=subscription.pk).consecutive_failures == 0


def test_an_endpoint_that_keeps_failing_is_paused_its_supervisors_told_and_resumed_in_order(tmp_path: Path):
    healthy = {"yes": False}
    receiver = Receiver(lambda path, payload, earlier: 200 if healthy["yes"] else 503)
    account = factories.make_account(duty_email="duty@example.com")
    factories.make_supervisor(account)
    subscription = subscribe(account, receiver.url(), [EventType.OPERATOR_STATE_CHANGED])
    op = factories.make_operator(account)
    presence.login_operator(op.pk)
    queue = f"test-{uuid.uuid4().hex}"
    mail_dir = tmp_path / "mail"
    worker = start_worker(queue, OUTGOING_EVENTS_MAX_ATTEMPTS="3",
                          EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                          EMAIL_FILE_PATH=str(mail_dir))
    try:
        sweep_until(queue, lambda: Subscription.objects.get(pk=subscription.pk).notified_at is not None)
        first = Delivery.objects.get(subscription=subscription)
        assert (first.state, first.attempts) == (DeliveryState.FAILED, 3)
        paused = Subscription.objects.get(pk=subscription.pk)
        assert paused.paused_at is not None and "503" in paused.pause_reason
        presence.pause_operator(op.pk)  # recorded while paused: kept, not sent
        time.sleep(1.5)
        sweep_deliveries_task.apply_async(queue=queue)
        time.sleep(1.5)
        assert len(receiver.requests) == 3
        healthy["yes"] = True
        actions.resume(subscription.pk)
        actions.resend([first.pk], account.pk)
        sweep_until(queue, lambda: not Delivery.objects.filter(state=DeliveryState.PENDING).exists())
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=30)
        receiver.close()
    mails = "".join(p.read_text() for p in mail_dir.iterdir())
    assert "Webhook paused" in mails and receiver.url() in mails and "duty@example.com" in mails, errors
    assert [r.payload["data"]["operator"]["state"] for r in receiver.requests if r.status == 200] == [
        "available", "paused"]  # the re-sent first one before the one recorded while paused
