"""The console and the wallboard in a real Chromium, against two real daphne servers on one Redis.

The operator's console talks to server A, the supervisor's wallboard to server B: every change the
operator makes (and every call the test places, as a worker would) must reach both. Screenshots of both
pages at desktop and phone width are saved under test-artifacts/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from channels.testing import ChannelsLiveServerTestCase
from django.conf import settings
from django.db import connection

from acd.actions import handle_event
from agents.models import Operator
from telephony import port
from tests import factories
from tests.processes import child_env

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
PASSWORD = factories.PASSWORD
WAIT = 15_000  # ms

pytestmark = pytest.mark.browser  # no skip: `make test` installs Chromium, and a missing one must fail


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def start_server(port_number: int) -> subprocess.Popen:
    """A second, independent daphne (a new process, as in production), on the test database and Redis."""
    env = child_env(DEBUG="true")
    process = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "localhost", "-p", str(port_number),
                                "callcenter.asgi:application"], cwd=settings.BASE_DIR, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("localhost", port_number)) == 0:
                return process
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("daphne did not start")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class ConsoleAndWallboardTests(ChannelsLiveServerTestCase):
    serve_static = True

    @classmethod
    def setUpClass(cls):
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs its own loop
        # The servers are forked from this process, whose settings already name the test database:
        # tell Channels' set-up hook so, instead of letting it prefix "test_" a second time.
        test = settings.DATABASES["default"].setdefault("TEST", {})
        cls._test_name = test.get("NAME")
        test["NAME"] = connection.settings_dict["NAME"]
        super().setUpClass()
        cls.port_b = free_port()
        cls.second = start_server(cls.port_b)

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.second)
        super().tearDownClass()
        settings.DATABASES["default"]["TEST"]["NAME"] = cls._test_name

    def setUp(self):
        self.account = factories.make_account(name="Acme")
        self.account.slug = "acme"
        self.account.save()
        self.op = factories.make_operator(self.account, login="anna", name="Anna Rossi")
        factories.make_operator(self.account, login="bruno", name="Bruno Verdi")
        factories.make_pause_reason(self.account, "Lunch")
        self.service = factories.make_service(self.account, [(self.op, 5)], name="Care", pause_after_misses=1)
        self.number = factories.make_number(self.account, self.service)
        self.supervisor = factories.make_supervisor(self.account)

    def server_b(self) -> str:
        return f"http://localhost:{self.port_b}"

    def test_operator_console_and_supervisor_wallboard(self):
        from playwright.sync_api import expect, sync_playwright

        ARTIFACTS.mkdir(exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            # The supervisor signs in to the admin and opens the wallboard on server B.
            sup = browser.new_context(viewport={"width": 1280, "height": 800})
            board = sup.new_page()
            board.goto(f"{self.server_b()}/admin/login/?next=/wallboard/")
            board.fill("#id_username", self.supervisor.username)
            board.fill("#id_password", PASSWORD)
            board.click("input[type=submit]")
            row = board.locator(f"tr[data-operator='{self.op.pk}'] .op-state")
            expect(row).to_have_attribute("data-state", "logged_out", timeout=WAIT)

            # The operator signs in to the console on server A, with setup step 2's login and password.
            op_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            console = op_ctx.new_page()
            console.goto(f"{self.live_server_url}/console/login/")
            console.fill("#id_account", "acme")
            console.fill("#id_login", "anna")
            console.fill("#id_password", "wrong-password")
            console.click("#sign-in")
            expect(console.locator(".error")).to_contain_text("Wrong company code, login or password")
            console.fill("#id_password", PASSWORD)
            console.click("#sign-in")
            state = console.locator("#state")
            expect(state).to_have_attribute("data-state", "logged_out", timeout=WAIT)

            console.click("#btn-login")
            expect(state).to_have_attribute("data-state", "available", timeout=WAIT)
            expect(row).to_have_attribute("data-state", "available", timeout=WAIT)

            console.select_option("#pause-reason", label="Lunch")
            console.click("#btn-pause")
            expect(state).to_have_attribute("data-state", "paused", timeout=WAIT)
            expect(row).to_have_attribute("data-state", "paused", timeout=WAIT)
            expect(row).to_contain_text("Lunch")

            console.click("#btn-resume")
            expect(row).to_have_attribute("data-state", "available", timeout=WAIT)

            # A call arrives (the event comes from this process, as from a worker): the console rings.
            commands = handle_event(port.IncomingCall(event_id="b1", call_ref="browser-call", dialed=self.number.number,
                                                      caller="+393471234567"), account_id=self.account.pk)
            ring = next(c for c in commands if isinstance(c, port.Ring))
            expect(console.locator("#call-card")).to_be_visible(timeout=WAIT)
            expect(console.locator("#card-caller")).to_have_text("+393471234567")
            expect(console.locator("#card-service")).to_have_text("Care")
            expect(row).to_have_attribute("data-state", "ringing", timeout=WAIT)
            self.snap(console, "console-ringing")

            # Nobody answers: the operator is paused automatically and told why.
            handle_event(port.LegNoAnswer(event_id="b2", call_ref="browser-call", leg_ref=ring.leg_ref),
                         account_id=self.account.pk)
            expect(console.locator("#notice")).to_be_visible(timeout=WAIT)
            expect(console.locator("#notice")).to_contain_text("paused automatically")
            expect(row).to_have_attribute("data-state", "paused", timeout=WAIT)
            board.wait_for_timeout(1500)  # let the debounced figures arrive before the picture
            self.snap(board, "wallboard")
            self.snap(console, "console-auto-paused")

            handle_event(port.Hangup(event_id="b3", call_ref="browser-call"), account_id=self.account.pk)
            expect(console.locator("#call-card")).to_be_hidden(timeout=WAIT)

            # Server B restarts under the wallboard: it reconnects, takes a snapshot and is right again.
            stop_server(self.second)
            expect(board.locator("#link-status")).to_have_attribute("data-ok", "0", timeout=WAIT)
            console.click("#btn-resume")  # a change made while the board is disconnected
            expect(state).to_have_attribute("data-state", "available", timeout=WAIT)
            type(self).second = start_server(self.port_b)
            expect(board.locator("#link-status")).to_have_attribute("data-ok", "1", timeout=30_000)
            expect(row).to_have_attribute("data-state", "available", timeout=WAIT)

            # The supervisor pauses the operator from the board.
            board.click(f"button[data-op='{self.op.pk}'][data-act='pause']")
            expect(state).to_have_attribute("data-state", "paused", timeout=WAIT)
            assert Operator.objects.get(pk=self.op.pk).pause_source == "supervisor"

            for name, page in (("console", console), ("wallboard", board)):
                page.set_viewport_size({"width": 390, "height": 844})
                page.wait_for_timeout(300)
                self.snap(page, f"{name}-phone")
            browser.close()

    def snap(self, page, name: str) -> None:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 5_000
