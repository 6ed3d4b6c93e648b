"""The campaign page: the supervisor of the campaign's account sees its lists' progress, the live figures and
four charts with data; another account's supervisor gets a 404; pause and resume go through the action; the
window is bounded; Italian. The browser test loads it in a real Chromium and reads the charts as drawn."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import sync_playwright

from accounts.actions import create_supervisor
from core.clock import now
from dialer import stats
from dialer.choices import CampaignState
from dialer.models import Campaign
from dialer.tests.campaign_seed import seed_history
from dialer.tests.conftest import Floor
from tests import factories
from tests.browser import BrowserLiveServerTestCase

PASSWORD = "campaign-pass-word-1"
SHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"


def _chart(html: str) -> dict:
    return json.loads(re.search(r'<script id="campaign-data" type="application/json">(.*?)</script>', html,
                                re.S).group(1))


@pytest.mark.django_db(transaction=True)
def test_the_supervisor_sees_progress_figures_and_charts_scoped_to_the_account(client, clock):
    account = factories.make_account(name="Outbound")
    floor = Floor(account, operators=3)
    at = clock.now()
    n = seed_history(floor, at)
    client.force_login(factories.make_supervisor(account))
    change = client.get(reverse("admin:dialer_campaign_change", args=[floor.campaign.pk]))
    url = reverse("admin:dialer_campaign_page", args=[floor.campaign.pk])
    assert url in change.content.decode()   # linked from the campaign's change page
    page = client.get(url, {"hours": "6"})
    assert page.status_code == 200
    html = page.content.decode()
    assert f"{n} / {n + n // 2}" in html   # the list's done / total
    data = _chart(html)
    assert len(data["labels"]) == 72 and data["labels"][-1].count(":") == 1   # 5-minute buckets, local time
    assert "Europe/Rome" in data["text"]["x"]
    assert max(v for v in data["busy_pct"] if v is not None) > 20
    assert max(data["channels"]) >= 1 and data["budget"] == stats.channel_budget(floor.campaign)
    assert any(v for v in data["dial_ratio"] if v)
    assert any(v is not None for v in data["abandon_pct"])
    # An unbounded or odd window reads as the default (24 h, 15-minute buckets).
    assert len(_chart(client.get(url, {"hours": "100000"}).content.decode())["labels"]) == 96
    # Pause from the page: the action runs, the page says so.
    client.post(reverse("admin:dialer_campaign_state", args=[floor.campaign.pk]), {"state": CampaignState.PAUSED})
    assert Campaign.objects.get(pk=floor.campaign.pk).state == CampaignState.PAUSED
    # In Italian.
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="it")
    assert "Rapporto di chiamata" in page.content.decode() and "Ora (Europe/Rome)" in page.content.decode()
    # Another account's supervisor: not found.
    other = factories.make_account(name="Other")
    client.logout()
    client.force_login(factories.make_supervisor(other))
    assert client.get(url).status_code == 404
    assert client.post(reverse("admin:dialer_campaign_state", args=[floor.campaign.pk]),
                       {"state": CampaignState.RUNNING}).status_code == 404


@pytest.mark.browser
class CampaignPageBrowserTests(BrowserLiveServerTestCase):
    def test_the_charts_are_drawn_with_data_in_english_and_italian(self):
        account = factories.make_account(name="Outbound demo")
        floor = Floor(account, operators=4)
        seed_history(floor, now(), hours=5, every_s=25)
        create_supervisor(account, "walker", PASSWORD)
        SHOTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
            for lang in ("en", "it"):
                context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=lang)
                page = context.new_page()
                page.goto(f"{self.live_server_url}/admin/login/?next=/admin/dialer/campaign/{floor.campaign.pk}/change/")
                page.fill("#id_username", "walker")
                page.fill("#id_password", PASSWORD)
                page.click("input[type=submit]")
                page.click("#campaign-page-link")
                page.wait_for_function("window.campaignCharts !== undefined")
                assert page.locator("#in-flight").inner_text() == "0"   # the seeded calls have all ended
                page.click("#period a[href='?hours=6']")   # the last 6 hours, 5-minute buckets
                page.wait_for_function("window.campaignCharts !== undefined")
                drawn = page.evaluate("""() => Object.fromEntries(Object.entries(window.campaignCharts).map(
                    ([k, c]) => [k, {points: c.data.datasets[0].data.filter(v => v !== null).length,
                                     x: c.options.scales.x.title.text, y: c.options.scales.y.title.text,
                                     labels: c.data.labels.length}]))""")
                for name, chart in drawn.items():
                    assert chart["points"] > 10, (lang, name, chart)
                    assert "Europe/Rome" in chart["x"] and chart["y"], (lang, name, chart)
                    assert chart["labels"] in (72, 73)  # 6 h of 5-minute buckets, the first one floored
                if lang == "it":
                    assert "Ora (Europe/Rome)" in drawn["busy"]["x"]
                page.screenshot(path=str(SHOTS / f"admin-campaign-page-{lang}-desktop.png"), full_page=True)
                context.close()
            browser.close()
