"""Events leave only after commit, and reach the real Redis channel layer."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from agents import actions
from core.events import account_group, operator_group, publisher
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def listen(*groups):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)
    return layer, channel


def receive(layer, channel, timeout=3.0):
    import asyncio

    async def get():
        return await asyncio.wait_for(layer.receive(channel), timeout)

    return async_to_sync(get)()


def test_presence_change_reaches_operator_and_account_groups():
    account = factories.make_account()
    op = factories.make_operator(account)
    layer, op_channel = listen(operator_group(op.pk))
    _, board_channel = listen(account_group(account.pk))
    actions.login_operator(op.pk)
    publisher.flush()
    for channel in (op_channel, board_channel):
        message = receive(layer, channel)
        assert message["type"] == "centralino.event"
        event = json.loads(message["text"])
        assert event["v"] == 1 and event["seq"] == message["seq"] >= 1
        assert (event["type"], event["operator"]["id"], event["operator"]["state"], event["previous"]) == (
            "operator.state", op.pk, "available", "logged_out")


def test_rolled_back_action_sends_nothing():
    account = factories.make_account()
    op = factories.make_operator(account)
    layer, channel = listen(operator_group(op.pk))

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        actions.login_operator(op.pk)
        raise Boom
    publisher.flush()
    import asyncio

    with pytest.raises(asyncio.TimeoutError):
        receive(layer, channel, timeout=0.5)
    op.refresh_from_db()
    assert op.state == "logged_out"


def test_unserialisable_payload_fails_in_the_action():
    from core.events import send_event_on_commit

    with pytest.raises(TypeError):
        send_event_on_commit(["g"], {"bad": object()})
