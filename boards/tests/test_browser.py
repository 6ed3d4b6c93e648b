"""The console and the wallboard in a real Chromium, against two real daphne servers on one Redis.

The operator's console talks to server A, the supervisor's wallboard to server B: every change the
operator makes (and every call the test places, as a worker would) must reach both. Screenshots of both
pages at desktop and phone width are saved under test-artifacts/.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from acd.actions import handle_event
from acd.models import Call
from agents import actions
from agents.models import ConsolePresence, Operator
from agents.tasks import logoff_unattended_consoles_task
from telephony import port
from tests import factories
from tests.browser import BrowserLiveServerTestCase
from tests.processes import child_env

CHROMIUM = "/usr/bin/chromium"
GRACE_SECONDS = 3  # the console log-off grace of both servers in this test
DOCS = Path(settings.BASE_DIR) / "docs" / "screenshots"
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
    env = child_env(DEBUG="true", CONSOLE_LOGOFF_GRACE_SECONDS=str(GRACE_SECONDS))
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


class ConsoleAndWallboardTests(BrowserLiveServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls._grace = settings.CONSOLE_LOGOFF_GRACE_SECONDS
        settings.CONSOLE_LOGOFF_GRACE_SECONDS = GRACE_SECONDS  # server A is forked with it
        super().setUpClass()
        cls.port_b = free_port()
        cls.second = start_server(cls.port_b)

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.second)
        super().tearDownClass()
        settings.CONSOLE_LOGOFF_GRACE_SECONDS = cls._grace

    def setUp(self):
        self.account = factories.make_account(name="Acme")
        self.account.slug = "acme"
        self.account.save()
        self.op = factories.make_operator(self.account, login="anna", name="Anna Rossi")
        # A name typed with markup: every page must show it as text.
        self.bruno = factories.make_operator(self.account, login="bruno", name="Ugo <i>Bianchi</i>")
        self.lunch = factories.make_pause_reason(self.account, "Lunch")
        self.training = factories.make_pause_reason(self.account, "Training <b>x</b>")
        self.service = factories.make_service(self.account, [(self.op, 5)], name="Care", pause_after_misses=1)
        self.number = factories.make_number(self.account, self.service)
        self.supervisor = factories.make_supervisor(self.account)
        self.supervisor.first_name, self.supervisor.last_name = "Sara", "Neri"
        self.supervisor.save()

    def server_b(self) -> str:
        return f"http://localhost:{self.port_b}"

    def test_operator_console_and_supervisor_wallboard(self):
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
            buttons = board.locator(f"tr[data-operator='{self.op.pk}'] button")
            expect(row).to_have_attribute("data-state", "logged_out", timeout=WAIT)
            # What a user typed is text, never markup.
            expect(board.locator(f"tr[data-operator='{self.bruno.pk}'] .op-name")).to_have_text("Ugo <i>Bianchi</i>")
            assert board.locator("#operators i").count() == 0
            # A logged-out operator can be neither paused nor logged off: no such buttons.
            expect(buttons).to_have_count(0)

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
            expect(buttons).to_have_text(["Pause", "Log off"])

            # The account keeps a list of reasons: a pause must name one.
            console.click("#btn-pause")
            expect(console.locator("#error")).to_have_text("Choose a pause reason.")
            expect(state).to_have_attribute("data-state", "available")
            console.select_option("#pause-reason", label="Lunch")
            console.click("#btn-pause")
            expect(state).to_have_attribute("data-state", "paused", timeout=WAIT)
            expect(row).to_have_attribute("data-state", "paused", timeout=WAIT)
            expect(row).to_contain_text("Lunch")
            expect(console.locator("#paused-by")).to_have_text("Paused by you")
            expect(buttons).to_have_text(["Resume", "Log off"])

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

            # The supervisor pauses the operator from the board: a reason first, refusals shown in the row.
            pause = f"button[data-op='{self.op.pk}'][data-act='pause']"
            reasons = f"select[data-reason-for='{self.op.pk}']"
            row_error = board.locator(f"tr[data-operator='{self.op.pk}'] .row-error")
            board.click(pause)
            expect(row_error).to_have_text("Choose a pause reason.")
            type(self.training).objects.filter(pk=self.training.pk).update(is_active=False)  # after the snapshot
            board.select_option(reasons, label="Training <b>x</b>")  # a name with markup, shown as text
            board.click(pause)
            expect(row_error).to_have_text("This account has no such pause reason.")
            expect(state).to_have_attribute("data-state", "available")
            board.select_option(reasons, label="Lunch")
            board.click(pause)
            expect(state).to_have_attribute("data-state", "paused", timeout=WAIT)
            expect(console.locator("#paused-by")).to_have_text("Paused by Sara Neri (supervisor)")
            expect(row).to_contain_text("Lunch, by Sara Neri")
            assert Operator.objects.get(pk=self.op.pk).pause_source == "supervisor"
            actions.login_operator(self.bruno.pk)  # for the picture: an available operator, with its buttons
            expect(board.locator(f"tr[data-operator='{self.bruno.pk}'] button")).to_have_text(["Pause", "Log off"])
            board.wait_for_timeout(1200)  # the debounced figures, for the picture
            self.snap(board, "wallboard")

            for name, page in (("console", console), ("wallboard", board)):
                page.set_viewport_size({"width": 390, "height": 844})
                page.wait_for_timeout(300)
                assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows
                self.snap(page, f"{name}-phone")
            console.set_viewport_size({"width": 1280, "height": 800})

            # Signing out asks whether to log off too; logging off there takes the operator off the floor.
            console.click("#sign-out")
            expect(console.locator("#still-logged-in")).to_contain_text("You are still logged in")
            self.snap(console, "console-sign-out")
            console.click("#signout-logoff")
            expect(console.locator("#sign-in")).to_be_visible(timeout=WAIT)
            expect(row).to_have_attribute("data-state", "logged_out", timeout=WAIT)

            # Signed in again and logged in, the operator closes the console: after the grace period the
            # sweep (run here as beat runs it) logs them off, so calls stop ringing a console nobody has open.
            console.fill("#id_account", "acme")
            console.fill("#id_login", "anna")
            console.fill("#id_password", PASSWORD)
            console.click("#sign-in")
            console.click("#btn-login")
            expect(row).to_have_attribute("data-state", "available", timeout=WAIT)
            console.close()
            deadline = time.monotonic() + 10
            while not ConsolePresence.objects.filter(operator=self.op, logoff_due_at__isnull=False).exists():
                assert time.monotonic() < deadline, "the closed console never started the grace period"
                time.sleep(0.1)
            assert logoff_unattended_consoles_task() == 0  # within the grace: still on the floor
            time.sleep(GRACE_SECONDS + 0.5)
            assert logoff_unattended_consoles_task() == 1
            expect(row).to_have_attribute("data-state", "logged_out", timeout=WAIT)
            browser.close()

    def test_call_card_in_italian_superuser_picker_and_usage_chart(self):
        ARTIFACTS.mkdir(exist_ok=True)
        self.service.wrapup_seconds = 0
        self.service.save()
        actions.login_operator(self.op.pk)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            # An Italian operator: the card's previous calls in Rome's time, Italian words, no raw ISO.
            italian = browser.new_context(viewport={"width": 1280, "height": 800}, locale="it-IT")
            console = italian.new_page()
            console.goto(f"{self.live_server_url}/console/login/")
            console.fill("#id_account", "acme")
            console.fill("#id_login", "anna")
            console.fill("#id_password", PASSWORD)
            console.click("#sign-in")
            expect(console.locator("#state")).to_have_text("Disponibile", timeout=WAIT)
            expect(console.locator("#sign-out")).to_have_text("Esci…")
            first = handle_event(port.IncomingCall(event_id="h1", call_ref="first", dialed=self.number.number,
                                                   caller="+393471234567"), account_id=self.account.pk)
            ring = next(c for c in first if isinstance(c, port.Ring))
            expect(console.locator("#card-previous")).to_have_text("Prima chiamata da questo numero.", timeout=WAIT)
            handle_event(port.LegAnswered(event_id="h2", call_ref="first", leg_ref=ring.leg_ref),
                         account_id=self.account.pk)
            handle_event(port.Hangup(event_id="h3", call_ref="first"), account_id=self.account.pk)
            expect(console.locator("#state")).to_have_attribute("data-state", "available", timeout=WAIT)
            handle_event(port.IncomingCall(event_id="h4", call_ref="second", dialed=self.number.number,
                                           caller="+393471234567"), account_id=self.account.pk)
            previous = console.locator("#previous-calls li")
            expect(previous).to_have_count(1, timeout=WAIT)
            text = previous.inner_text()
            assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d · Risposta · Anna Rossi", text), text
            local = Call.objects.get(engine_ref="first").arrived_at.astimezone(zoneinfo.ZoneInfo("Europe/Rome"))
            assert local.strftime("%d/%m/%Y %H:%M") in text  # the account's time zone, not UTC
            expect(console.locator("#card-wait")).to_have_text(re.compile(r"^\d+:\d\d$"))
            self.snap(console, "console-ringing-it")

            # A superuser picks the account to watch instead of being told they supervise none.
            root = factories.make_superuser()
            admin = browser.new_context(viewport={"width": 1280, "height": 800})
            board = admin.new_page()
            board.goto(f"{self.server_b()}/admin/login/?next=/wallboard/")
            board.fill("#id_username", root.username)
            board.fill("#id_password", PASSWORD)
            board.click("input[type=submit]")
            expect(board.locator("#pick-hint")).to_be_visible(timeout=WAIT)
            board.select_option("#pick-account", label="Acme")
            row = board.locator(f"tr[data-operator='{self.op.pk}'] .op-state")
            expect(row).to_have_attribute("data-state", "ringing", timeout=WAIT)
            expect(board.locator(f"tr[data-operator='{self.op.pk}'] button")).to_have_count(0)  # ringing: none
            expect(board.locator(f"tr[data-operator='{self.bruno.pk}'] .op-name")).to_have_text("Ugo <i>Bianchi</i>")

            # The supervisor reads the usage page from the admin home: a chart with axes, units and local time,
            # at desktop and phone width, in English and in Italian.
            for language, locale, y_title in (("en", "en-US", "Concurrent calls"),
                                              ("it", "it-IT", "Chiamate contemporanee")):
                ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
                page = ctx.new_page()
                page.goto(f"{self.server_b()}/admin/login/?next=/admin/")
                page.fill("#id_username", self.supervisor.username)
                page.fill("#id_password", PASSWORD)
                page.click("input[type=submit]")
                page.click("#link-usage")
                page.wait_for_function("window.usageChart && window.usageChart.scales.y", timeout=WAIT)
                axes = page.evaluate("""() => ({
                    y: usageChart.options.scales.y.title.text, x: usageChart.options.scales.x.title.text,
                    labels: usageChart.data.labels.length, limit: usageChart.data.datasets[2].data[0],
                    most: Math.max(...usageChart.data.datasets[0].data), width: usageChart.width})""")
                assert axes["y"] == y_title and "Europe/Rome" in axes["x"], axes
                assert axes["labels"] > 0 and axes["limit"] == self.account.channel_limit and axes["most"] >= 1
                advisor = page.locator("#advisor").inner_text()
                assert ("Not enough traffic yet" if language == "en" else "Traffico ancora insufficiente") in advisor
                page.click("a[href='?days=1']")  # the last day, in 5-minute samples
                page.wait_for_function("window.usageChart && usageChart.data.labels.length >= 288", timeout=WAIT)
                assert page.evaluate("Math.max(...usageChart.data.datasets[0].data)") >= 1
                self.snap(page, f"usage-{language}")
                page.set_viewport_size({"width": 390, "height": 844})
                page.wait_for_function("usageChart.width <= 390", timeout=WAIT)  # redrawn to the phone's width
                assert page.evaluate("usageChart.scales.x.ticks.length") > 0
                assert page.locator("#usage-chart").bounding_box()["width"] <= 390
                self.snap(page, f"usage-{language}-phone")
                ctx.close()
            browser.close()

    def snap(self, page, name: str) -> None:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 5_000
