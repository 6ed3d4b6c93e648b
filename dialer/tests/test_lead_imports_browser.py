"""The import page in Chromium (English and Italian, desktop and phone width): a supervisor uploads a lead file,
the page shows it waiting, its bar follows the import the worker runs, and once it is over the page shows its
report of refused rows without being reloaded by hand."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from playwright.sync_api import sync_playwright

from accounts.actions import create_supervisor
from dialer import lead_imports
from dialer.models import Campaign, LeadImport, LeadList
from tests import factories
from tests.browser import BrowserLiveServerTestCase

PASSWORD = "import-pass-word-1"
SHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
REPORT = {"en": "4 of 5 rows imported, 1 refused.", "it": "4 di 5 righe importate, 1 rifiutate."}


class LeadImportPageBrowserTests(BrowserLiveServerTestCase):
    def test_the_bar_follows_the_import_and_the_report_appears_when_it_is_over(self):
        account = factories.make_account(name="Outbound demo")
        campaign = Campaign.objects.create(account=account, name="Winter", caller_id="+390212345678",
                                           service=factories.make_service(account, []))
        lead_list = LeadList.objects.create(account=account, campaign=campaign, name="December")
        create_supervisor(account, "importer", PASSWORD)
        SHOTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
            for n, (lang, size) in enumerate([("en", "desktop"), ("it", "phone")]):
                rows = [f"+3906123400{n}{i}" for i in range(4)] + ["not-a-number"]
                context = browser.new_context(viewport=VIEWPORTS[size], locale=lang)
                page = context.new_page()
                page.goto(f"{self.live_server_url}/admin/login/?next=/admin/dialer/leadlist/{lead_list.pk}/import/")
                page.fill("#id_username", "importer")
                page.fill("#id_password", PASSWORD)
                page.click("input[type=submit]")
                page.set_input_files("#id_file", files=[{"name": f"{lang}.csv", "mimeType": "text/csv",
                                                         "buffer": ("phone\n" + "\n".join(rows) + "\n").encode()}])
                page.click("input[type=submit]")
                page.wait_for_url("**/import/?job=*")
                job = LeadImport.objects.filter(lead_list=lead_list).first()
                row = page.locator(f"tr.lead-import[data-job='{job.pk}']")
                assert row.locator("progress").get_attribute("value") == "0"
                assert lead_imports.run_lead_import(job.pk)  # the worker's run, while the page polls
                page.wait_for_selector("table.lead-import-report", timeout=15_000)  # reloaded by the poll
                text = page.locator("#content").inner_text()
                assert REPORT[lang] in text, text
                report = page.locator("table.lead-import-report").inner_text()
                assert "not-a-number" in report
                # The worker wrote the report in the uploader's language; the reason is shown by its label.
                assert {"en": "Enter the number in international", "it": "Inserisci il numero"}[lang] in report
                assert {"en": "Not a valid phone number", "it": "Numero di telefono non valido"}[lang] in report
                assert page.locator(f"tr.lead-import[data-job='{job.pk}'] progress").get_attribute("value") == "100"
                overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                assert size == "desktop" or overflow <= 2, overflow  # the phone's page does not scroll sideways
                page.screenshot(path=str(SHOTS / f"admin-lead-import-{lang}-{size}.png"), full_page=True)
                context.close()
            browser.close()
