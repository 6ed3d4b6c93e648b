"""Issue 11, finding 4: the engine URL a supervisor types cannot reach loopback, private, link-local or
metadata addresses (checked when saved and again at each push), and a slow engine cannot hold a worker."""

import socket
import threading
import time

import pytest
from django.core.exceptions import ValidationError

from acd.actions import transfer_call
from acd.tests.switch import Switch, only_ring
from core.clock import ManualClock, now
from telephony import outbox
from telephony.tasks import push_commands
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/commands", "http://localhost/commands",
                                 "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/", "http://192.168.1.1/",
                                 "http://[::1]:8000/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
                                 "http://100.64.0.1/", "ftp://8.8.8.8/", "http://8.8.8.8:99999/"])
def test_unsafe_engine_urls_are_refused_when_saved(url):
    account = factories.make_account()
    account.engine_url = url
    with pytest.raises(ValidationError) as refused:
        account.full_clean()
    assert "engine_url" in refused.value.message_dict


def test_a_public_engine_url_is_accepted_and_a_platform_setting_allows_private_ones(settings):
    account = factories.make_account()
    account.engine_url = "https://8.8.8.8/centralino/commands"
    account.full_clean()
    account.engine_url = "http://10.1.2.3/commands"
    settings.ENGINE_URL_ALLOW_PRIVATE = True
    account.full_clean()
    settings.ENGINE_URL_ALLOW_PRIVATE = False
    settings.ENGINE_URL_ALLOWED_HOSTS = ["10.1.2.3"]
    account.full_clean()


@pytest.fixture
def pending():
    """An account with one command waiting in the outbox (a supervisor's transfer of a connected call)."""
    account, _op, number = factories.make_floor()
    switch = Switch(account, ManualClock(now()))
    ref, commands = switch.incoming(number.number)
    switch.answer(ref, only_ring(commands))
    transfer_call(switch.call(ref).pk, account.pk, number="+390287654321")
    return account


class Listener:
    """A real TCP server on loopback that records connections and answers as told."""

    def __init__(self, behaviour: str) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.behaviour = behaviour
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            conn.recv(65536)
            if self.behaviour == "dribble":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                try:
                    for _ in range(100):
                        conn.sendall(b"x")
                        time.sleep(0.3)
                except OSError:
                    pass
            else:
                time.sleep(10)  # "slow": never answers in time
            conn.close()

    def close(self) -> None:
        self.server.close()


def test_a_loopback_url_stored_before_the_check_is_refused_at_push_time(pending):
    listener = Listener("slow")
    try:
        type(pending).objects.filter(pk=pending.pk).update(engine_url=f"http://127.0.0.1:{listener.port}/")
        pending.refresh_from_db()
        assert push_commands(pending) == 0
        assert listener.connections == 0  # nothing was sent there
        assert [c.type for c in outbox.take_pending(pending.pk)] == ["transfer"]  # kept for polling
    finally:
        listener.close()


@pytest.mark.parametrize("behaviour", ["slow", "dribble"])
def test_a_slow_engine_is_cut_off_at_the_deadline(pending, settings, behaviour):
    settings.ENGINE_URL_ALLOW_PRIVATE = True
    settings.ENGINE_CONNECT_TIMEOUT, settings.ENGINE_READ_TIMEOUT = 0.5, 1.0
    listener = Listener(behaviour)
    try:
        type(pending).objects.filter(pk=pending.pk).update(engine_url=f"http://127.0.0.1:{listener.port}/")
        pending.refresh_from_db()
        started = time.monotonic()
        with pytest.raises(OSError):
            push_commands(pending)
        assert time.monotonic() - started < 2.0
        assert listener.connections == 1
        assert [c.type for c in outbox.take_pending(pending.pk)] == ["transfer"]  # kept for the next attempt
    finally:
        listener.close()
