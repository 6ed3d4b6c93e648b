"""The first hour of a new supervisor, in a real Chromium: sign in, the six steps, a test call that rings an
operator's console (in another browser) and is answered there, the usage page. In English and Italian, at
desktop and phone width; screenshots go to docs/screenshots/ (committed) so the pages can be looked at.

Each step is its own function taking the Playwright page, so other walks (the console, the wallboard, the
usage charts) can join this one.
"""

from __future__ import annotations

import re
import tempfile
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect, sync_playwright

from accounts.actions import create_supervisor
from core.audio import tone_wav
from simulator import testcall
from tests import factories
from tests.browser import BrowserLiveServerTestCase

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
PASSWORD = "walk-pass-word-1"
WAIT = 20_000  # ms
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

pytestmark = pytest.mark.browser


class Walk:
    """One run: a language, a width, a live server and a fresh account."""

    def __init__(self, browser, base: str, lang: str, width: str, account, supervisor: str, number: str) -> None:
        self.base, self.lang, self.width, self.number = base, lang, width, number
        self.account, self.supervisor = account, supervisor
        self.context = browser.new_context(viewport=WIDTHS[width], locale=lang)
        self.page = self.context.new_page()
        self.console_context = browser.new_context(viewport=WIDTHS["phone"], locale=lang)
        self.console = self.console_context.new_page()

    def shot(self, name: str, page=None) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        (page or self.page).screenshot(path=str(SHOTS / f"admin-{name}-{self.lang}-{self.width}.png"),
                                       full_page=True)

    def close(self) -> None:
        self.context.close()
        self.console_context.close()


def select2(page, select_id: str, text: str) -> None:
    """Pick `text` in an admin autocomplete (select2) field, as a person does: open, type, choose."""
    page.click(f"#{select_id} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", text)
    page.locator(".select2-results__option", has_text=text).first.click()


def open_next_step(walk: Walk, number: int) -> None:

    walk.page.goto(f"{walk.base}/admin/accounts/account/my-setup/")
    row = walk.page.locator(f"tr[data-step='{number}']")
    expect(row).to_have_attribute("data-done", "0")
    row.locator("a.step-link").click()


def save(walk: Walk) -> None:
    walk.page.click("input[name=_save]")
    walk.page.wait_for_url(re.compile(r"/admin/accounts/account/\d+/setup/\?saved=\d"), timeout=WAIT)


def assert_done(walk: Walk, number: int) -> None:

    expect(walk.page.locator(f"tr[data-step='{number}']")).to_have_attribute("data-done", "1", timeout=WAIT)


def step_sign_in(walk: Walk) -> None:

    walk.page.goto(f"{walk.base}/admin/login/?next=/admin/accounts/account/my-setup/")
    walk.page.fill("#id_username", walk.supervisor)
    walk.page.fill("#id_password", PASSWORD)
    walk.page.click("input[type=submit]")
    expect(walk.page.locator("#setup-progress")).to_have_attribute("data-done", "0", timeout=WAIT)
    assert "Centralino" in walk.page.title()
    walk.shot("setup-start")


def step_operators(walk: Walk) -> None:
    open_next_step(walk, 2)
    walk.page.fill("#id_name", "Anna Rossi")
    walk.page.fill("#id_login", "anna")
    walk.page.fill("#id_new_password", PASSWORD)
    walk.page.fill("#id_code", "101")
    walk.page.select_option("#id_endpoint_kind", "phone")
    walk.page.fill("#id_endpoint", "333 1234567")  # a national number, read in the account's country
    save(walk)
    assert_done(walk, 2)


def step_prompts(walk: Walk, tmp: Path) -> None:
    open_next_step(walk, 4)
    audio = tmp / "benvenuto.wav"
    audio.write_bytes(tone_wav(1.0))
    walk.page.fill("#id_name", "Benvenuto")
    walk.page.select_option("#id_kind", "welcome")
    walk.page.set_input_files("#id_audio", str(audio))
    save(walk)


def step_service(walk: Walk) -> None:

    open_next_step(walk, 3)
    walk.page.fill("#id_name", "Assistenza")
    walk.page.select_option("#id_criterion", "skill")
    skill = walk.page.locator("fieldset.when-skill")
    expect(skill).to_be_visible()
    expect(walk.page.locator("fieldset.when-operator_code")).to_be_hidden()
    walk.page.select_option("#id_welcome_prompt", index=1)  # the only welcome prompt (hold ones are not offered)
    select2(walk.page, "id_memberships-0-operator", "Anna")
    walk.page.fill("#id_memberships-0-skill_level", "7")
    walk.shot("service-form")
    save(walk)
    assert_done(walk, 3)


def step_number(walk: Walk) -> None:
    open_next_step(walk, 1)
    walk.page.fill("#id_number", walk.number)
    walk.page.fill("#id_label", "Milano")
    select2(walk.page, "id_service", "Assistenza")
    save(walk)
    assert_done(walk, 1)
    assert_done(walk, 4)


def console_sign_in(walk: Walk) -> None:

    walk.console.goto(f"{walk.base}/console/login/")
    walk.console.fill("#id_account", walk.account.slug)
    walk.console.fill("#id_login", "anna")
    walk.console.fill("#id_password", PASSWORD)
    walk.console.click("#sign-in")
    expect(walk.console.locator("#state")).to_have_attribute("data-state", "logged_out", timeout=WAIT)


def console_press(walk: Walk, button: str, state: str) -> None:

    walk.console.click(button)
    expect(walk.console.locator("#state")).to_have_attribute("data-state", state, timeout=WAIT)


def step_log_in(walk: Walk) -> None:
    console_sign_in(walk)
    console_press(walk, "#btn-login", "available")
    walk.page.goto(f"{walk.base}/admin/accounts/account/my-setup/")
    assert_done(walk, 5)


def step_pause_and_log_off(walk: Walk) -> None:
    open_next_step(walk, 6)  # no pause reason yet: the form to add one
    walk.page.fill("#id_name", "Pranzo")
    save(walk)
    walk.console.reload()
    walk.console.select_option("#pause-reason", label="Pranzo")
    console_press(walk, "#btn-pause", "paused")
    console_press(walk, "#btn-resume", "available")
    console_press(walk, "#btn-logoff", "logged_out")
    walk.page.goto(f"{walk.base}/admin/accounts/account/my-setup/")
    assert_done(walk, 6)

    expect(walk.page.locator("#setup-progress")).to_have_attribute("data-done", "6")
    console_press(walk, "#btn-login", "available")
    walk.page.reload()
    walk.shot("setup-done")


def step_test_call(walk: Walk) -> None:

    walk.page.click("#link-test-call")
    walk.page.fill("#id_caller", "347 7654321")
    walk.shot("test-call")
    walk.page.click("#place-test-call")
    expect(walk.page.locator(".messagelist .success")).to_be_visible(timeout=WAIT)
    expect(walk.console.locator("#state")).to_have_attribute("data-state", "ringing", timeout=WAIT)
    expect(walk.console.locator("#card-caller")).to_contain_text("+393477654321")
    answer = walk.console.locator("#btn-answer-test")
    expect(answer).to_be_visible(timeout=WAIT)
    walk.shot("console-test-call", walk.console)
    answer.click()
    expect(walk.console.locator("#state")).to_have_attribute("data-state", "on_call", timeout=WAIT)


def step_usage(walk: Walk) -> None:
    walk.page.goto(f"{walk.base}/admin/accounts/account/{walk.account.pk}/usage/")
    assert walk.page.locator("#content").is_visible()
    walk.shot("usage")


class CallBeat(threading.Thread):
    """What Celery beat does for test calls in production: `drive_test_calls_task` every second (here every
    half second, on the test database, so the walk does not wait on a worker's schedule)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.wait(0.5):
                testcall.drive()
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)


class SupervisorFirstHourTests(BrowserLiveServerTestCase):
    def test_first_hour_in_english_and_italian_at_desktop_and_phone_width(self):

        beat = CallBeat()
        beat.start()
        self.addCleanup(beat.stop)
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            for n, (lang, width) in enumerate([("en", "desktop"), ("it", "desktop"), ("en", "phone"),
                                               ("it", "phone")]):
                with self.subTest(lang=lang, width=width):
                    account = factories.make_account(name=f"Walk {lang} {width}")
                    supervisor = f"walker{n}"
                    create_supervisor(account, supervisor, PASSWORD)
                    walk = Walk(browser, self.live_server_url, lang, width, account, supervisor,
                                number=f"02 1234 567{n}")  # national, read in the account's country
                    try:
                        step_sign_in(walk)
                        step_operators(walk)
                        step_prompts(walk, Path(tmp))
                        step_service(walk)
                        step_number(walk)
                        step_log_in(walk)
                        step_pause_and_log_off(walk)
                        step_test_call(walk)
                        step_usage(walk)
                    finally:
                        walk.close()
            browser.close()
