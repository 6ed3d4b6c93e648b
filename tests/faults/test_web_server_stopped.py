"""Fault: one of two web servers stopped while a browser is connected (issue 11, fault injection).

Two web processes (the Procfile's command, one port each) on one database and Redis sit behind a small TCP
balancer (as a proxy would: each new connection goes to the first server that accepts it). A supervisor's
wallboard is open in Chromium through it, its socket held by server A. Server A is stopped (SIGTERM, as a
deploy or a crash would); while the page has no socket the operator's state changes. The page reconnects,
through the balancer, to server B and shows the change from B's fresh snapshot, then B's live events."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from agents import actions as presence
from tests import factories
from tests.faults.stack import start_web

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
CHROMIUM = "/usr/bin/chromium"
WAIT = 30_000  # ms


class Balancer:
    """A TCP balancer on a free port: each connection goes to the first backend that accepts it."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.loop = asyncio.new_event_loop()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self.thread.start()
        started.wait(10)

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        started.set()
        self.loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for backend in self.backends:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", backend)
                break
            except OSError:
                continue
        else:
            writer.close()
            return

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            with contextlib.suppress(OSError):
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def test_a_browser_reconnects_to_the_other_web_server_and_shows_a_fresh_snapshot(monkeypatch):

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs its own loop
    account, op, _ = factories.make_floor()
    supervisor = factories.make_supervisor(account)
    # DEBUG: the pages' assets from the apps' folders (production collects them first for WhiteNoise).
    server_a, port_a = start_web(settings.REDIS_URL, DEBUG="true")
    server_b, port_b = start_web(settings.REDIS_URL, DEBUG="true")
    balancer = Balancer([port_a, port_b])
    base = f"http://127.0.0.1:{balancer.port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            page = browser.new_page()
            page.goto(f"{base}/admin/login/?next=/wallboard/")
            page.fill("#id_username", supervisor.username)
            page.fill("#id_password", factories.PASSWORD)
            page.click("input[type=submit]")
            state = page.locator(f"tr[data-operator='{op.pk}'] .op-state")
            expect(state).to_have_attribute("data-state", "available", timeout=WAIT)
            presence.pause_operator(op.pk, source="supervisor")  # a live event, through server A's socket
            expect(state).to_have_attribute("data-state", "paused", timeout=WAIT)

            server_a.stop()  # the page's socket goes with it; the balancer now only finds server B
            presence.resume_operator(op.pk)  # while the page has no socket: only a fresh snapshot can tell it
            expect(state).to_have_attribute("data-state", "available", timeout=WAIT)
            presence.logoff_operator(op.pk)  # and B's socket carries the live events after it
            expect(state).to_have_attribute("data-state", "logged_out", timeout=WAIT)
            browser.close()
    finally:
        balancer.stop()
        server_a.stop()
        server_b.stop()
    assert "Traceback" not in server_b.output(), server_b.output()[-3000:]
