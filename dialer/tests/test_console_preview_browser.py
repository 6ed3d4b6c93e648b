"""Preview mode on the operator console in a real Chromium against a real Channels server (daphne, Redis):
the operator signs in, asks for the next lead, reads its number and custom fields (a value with markup
shows as text), skips one, dials the next; when the person answers (the engine's event, sent from this
process as from a worker) the call card shows the lead's fields. The buttons' labels in Italian too.
Screenshots under test-artifacts/."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from acd.actions import handle_event
from dialer import actions
from dialer.choices import AttemptOutcome, CampaignMode, CampaignState
from dialer.models import WEEKDAYS, Attempt, Campaign, Lead, LeadList
from telephony import port
from tests import factories
from tests.browser import BrowserLiveServerTestCase

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
WAIT = 15_000  # ms
_events = itertools.count(1)
ALL_DAY = {d: ["00:00", "23:59"] for d in WEEKDAYS}


@pytest.mark.browser
class ConsolePreviewBrowserTests(BrowserLiveServerTestCase):
    def setUp(self):
        self.account = factories.make_account(name="Outbound")
        self.account.slug = "outbound"
        self.account.save()
        self.op = factories.make_operator(self.account, login="anna", name="Anna Rossi")
        self.service = factories.make_service(self.account, [(self.op, 5)], name="Sales")
        campaign = Campaign.objects.create(account=self.account, name="Renewals", service=self.service,
                                           caller_id="+390212345678", mode=CampaignMode.PREVIEW,
                                           calling_hours=ALL_DAY)  # the live server runs on the wall clock
        self.campaign = actions.change_campaign_state(campaign.pk, CampaignState.RUNNING, by="test")
        self.list = LeadList.objects.create(account=self.account, campaign=self.campaign, name="Customers",
                                            custom_fields=["name", "plan"])
        for phone, name in (("+390612345601", "Bruno <i>Verdi</i>"), ("+390612345602", "Ada <b>Lovelace</b>")):
            Lead.objects.create(account=self.account, lead_list=self.list, phone=phone, timezone="Europe/Rome",
                                fields={"name": name, "plan": "Gold"})

    def sign_in(self, browser, lang: str):
        page = browser.new_context(viewport={"width": 1100, "height": 900}, locale=lang).new_page()
        page.goto(f"{self.live_server_url}/console/login/")
        page.fill("#id_account", "outbound")
        page.fill("#id_login", "anna")
        page.fill("#id_password", factories.PASSWORD)
        page.click("#sign-in")
        return page

    def test_the_operator_previews_skips_dials_and_reads_the_fields_on_the_call_card(self):
        ARTIFACTS.mkdir(exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
            console = self.sign_in(browser, "en")
            expect(console.locator("#state")).to_have_attribute("data-state", "logged_out", timeout=WAIT)
            expect(console.locator("#btn-preview")).to_be_hidden()  # only an available operator previews
            console.click("#btn-login")
            expect(console.locator("#state")).to_have_attribute("data-state", "available", timeout=WAIT)

            console.click("#btn-preview")
            card = console.locator("#preview-card")
            expect(card).to_be_visible(timeout=WAIT)
            expect(console.locator("#preview-phone")).to_have_text("+390612345601")
            expect(console.locator("#preview-campaign")).to_have_text("Renewals")
            expect(console.locator("#preview-fields dt")).to_have_text(["name", "plan"])
            expect(console.locator("#preview-fields dd")).to_have_text(["Bruno <i>Verdi</i>", "Gold"])
            assert console.locator("#preview-fields i").count() == 0  # the lead's text, never markup
            console.screenshot(path=str(ARTIFACTS / "console-preview-en.png"), full_page=True)

            console.click("#btn-skip")  # the next lead at once
            expect(console.locator("#preview-phone")).to_have_text("+390612345602", timeout=WAIT)
            skipped = Attempt.objects.get(lead__phone="+390612345601")
            assert skipped.outcome == AttemptOutcome.SKIPPED

            console.reload()  # the held lead is in the console's snapshot
            expect(console.locator("#preview-phone")).to_have_text("+390612345602", timeout=WAIT)

            console.click("#btn-dial")
            expect(console.locator("#preview-status")).to_have_text("Calling +390612345602…", timeout=WAIT)
            expect(card).to_be_hidden()
            attempt = Attempt.objects.select_related("call").get(lead__phone="+390612345602")
            assert attempt.outcome == AttemptOutcome.RINGING and attempt.call is not None

            # The person answers (the engine's event, as a worker would handle it): the call card rings here.
            handle_event(port.AmdResult(event_id=f"pv{next(_events)}", call_ref=attempt.call.engine_ref,
                                        verdict="human"), account_id=self.account.pk)
            expect(console.locator("#call-card")).to_be_visible(timeout=WAIT)
            expect(console.locator("#state")).to_have_attribute("data-state", "ringing", timeout=WAIT)
            expect(console.locator("#card-fields dd")).to_have_text(["Ada <b>Lovelace</b>", "Gold"])
            assert console.locator("#card-fields b").count() == 0
            expect(console.locator("#card-caller")).to_have_text("+390612345602")  # the person, not our caller id
            expect(console.locator("#preview-status")).to_have_text("")
            console.screenshot(path=str(ARTIFACTS / "console-preview-call-card-en.png"), full_page=True)

            italian = self.sign_in(browser, "it")
            expect(italian.locator("#state")).to_have_attribute("data-state", "ringing", timeout=WAIT)
            assert italian.locator("#btn-preview").text_content() == "Mostra il prossimo contatto"
            assert (italian.locator("#btn-dial").text_content(), italian.locator("#btn-skip").text_content()) == (
                "Chiama", "Salta")
            expect(italian.locator("#card-fields dd")).to_have_text(["Ada <b>Lovelace</b>", "Gold"])
            browser.close()
