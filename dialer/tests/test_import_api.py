"""Lead import with its per-row report (CSV, XLSX, JSON; the admin page), and the API scoped to the token's
account: campaigns CRUD and start/pause, attempts, dispositions."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dialer import actions
from dialer.choices import AttemptOutcome, CampaignState, ImportState, LeadState, RefusalReason
from dialer.lead_imports import import_leads_task
from dialer.models import Attempt, Campaign, DoNotCall, Lead, LeadImport, LeadList
from tests import factories
from tests.api import ApiResourceTests, client_for

pytestmark = pytest.mark.django_db

CSV = (
    "phone,name,timezone\n"
    "+390612345678,Anna,\n"              # row 2: good (Rome, from the number)
    "+12125550123,Bob,\n"                # row 3: good (New York)
    "+390612345678,Anna again,\n"        # row 4: duplicate of row 2
    "0612345678,No prefix,\n"            # row 5: not E.164
    "+9991234567,No country,\n"          # row 6: not a number (no such country code)
    "+390699999999,Listed,\n"            # row 7: on the do-not-call list
    "+442079460000,Zed,Mars/Olympus\n"   # row 8: unknown time zone
    "+442079460001,Yan,Europe/Dublin\n"  # row 9: good, time zone overridden
)


@pytest.fixture
def setup(db):
    account = factories.make_account()
    service = factories.make_service(account, [])
    campaign = Campaign.objects.create(account=account, name="Spring", service=service, caller_id="+390212345678")
    lead_list = LeadList.objects.create(account=account, campaign=campaign, name="March")
    DoNotCall.objects.create(account=account, phone="+390699999999", added_at=campaign.created_at)
    return account, campaign, lead_list


def _check_report(report: dict, lead_list: LeadList) -> None:
    assert (report["total"], report["imported"], report["refused_count"]) == (8, 3, 5)
    assert [(r["row"], r["reason"]) for r in report["refused"]] == [
        (4, RefusalReason.DUPLICATE), (5, RefusalReason.BAD_NUMBER), (6, RefusalReason.BAD_NUMBER),
        (7, RefusalReason.DO_NOT_CALL), (8, RefusalReason.BAD_TIMEZONE)]
    leads = {lead.phone: lead for lead in Lead.objects.filter(lead_list=lead_list)}
    assert set(leads) == {"+390612345678", "+12125550123", "+442079460001"}
    assert leads["+12125550123"].timezone == "America/New_York"
    assert leads["+390612345678"].timezone == "Europe/Rome"
    assert leads["+442079460001"].timezone == "Europe/Dublin"
    assert leads["+390612345678"].fields == {"name": "Anna"}


def test_csv_import_by_the_api_reports_every_refused_row(setup):
    account, _campaign, lead_list = setup
    client = client_for(account)
    upload = SimpleUploadedFile("leads.csv", CSV.encode(), content_type="text/csv")
    r = client.post(reverse("lead-list-import", args=[lead_list.pk]), {"file": upload}, format="multipart")
    assert r.status_code == 200, r.content
    _check_report(r.json(), lead_list)
    r = client.get(reverse("lead-list-detail", args=[lead_list.pk]))
    assert r.json()["progress"]["total"] == 3 and r.json()["progress"]["remaining"] == 3


def test_xlsx_import_in_the_admin_shows_the_report(setup, client):
    account, _campaign, lead_list = setup
    book = openpyxl.Workbook()
    sheet = book.active
    for line in CSV.strip().split("\n"):
        sheet.append(line.split(","))
    buf = io.BytesIO()
    book.save(buf)
    client.force_login(factories.make_supervisor(account))
    url = reverse("admin:dialer_leadlist_import", args=[lead_list.pk])
    r = client.post(url, {"file": SimpleUploadedFile("leads.xlsx", buf.getvalue())})
    job = LeadImport.objects.get(lead_list=lead_list)
    assert r.status_code == 302 and r["Location"] == f"{url}?job={job.pk}"  # imported in the background
    assert (job.state, job.filename, job.created_by) == (ImportState.QUEUED, "leads.xlsx",
                                                         r.wsgi_request.user.get_username())
    assert not Lead.objects.filter(lead_list=lead_list).exists()
    assert import_leads_task(job.pk) is True  # what the worker runs
    assert import_leads_task(job.pk) is False  # a redelivery: nothing twice
    job.refresh_from_db()
    _check_report({"total": job.total_rows, "imported": job.imported, "refused_count": job.refused_count,
                   "refused": job.refused}, lead_list)
    assert job.content == b""  # the file is dropped once imported
    r = client.get(f"{url}?job={job.pk}")
    assert r.status_code == 200
    assert b"This number is on the do-not-call list." in r.content
    assert "3 of 8 rows imported, 5 refused." in r.content.decode()
    bar = client.get(reverse("admin:dialer_leadlist_import_progress", args=[lead_list.pk, job.pk])).json()
    assert bar == {"id": job.pk, "state": "done", "state_label": "Imported", "total": 8, "checked": 8, "percent": 100,
                   "imported": 3, "refused": 5, "error": "", "over": True}
    # The list's bar, on the import page and in the list of lists: done against remaining.
    assert 'data-done="0" data-remaining="3"' in r.content.decode()
    Lead.objects.filter(lead_list=lead_list, phone="+12125550123").update(state=LeadState.DONE)
    changelist = client.get(reverse("admin:dialer_leadlist_changelist"), HTTP_ACCEPT_LANGUAGE="it")
    html = changelist.content.decode()
    assert f'data-list="{lead_list.pk}" data-done="1" data-remaining="2"' in html
    assert '<progress max="100" value="33"' in html and "1 fatti, 2 da fare su 3" in html
    other = LeadList.objects.create(account=factories.make_account(), campaign=Campaign.objects.create(
        account=factories.make_account(), name="x", service=factories.make_service(account, []),
        caller_id="+390212345678"), name="theirs")
    assert client.get(reverse("admin:dialer_leadlist_import", args=[other.pk])).status_code == 404
    assert client.get(reverse("admin:dialer_leadlist_import_progress", args=[other.pk, job.pk])).status_code == 404
    theirs = LeadImport.objects.create(account=other.account, lead_list=other, filename="x.csv", content=b"",
                                       created_at=job.created_at)
    assert client.get(reverse("admin:dialer_leadlist_import_progress", args=[lead_list.pk, theirs.pk])
                      ).status_code == 404


def test_json_bulk_import_and_bad_bodies(setup):
    account, _campaign, lead_list = setup
    client = client_for(account)
    url = reverse("lead-list-import", args=[lead_list.pk])
    r = client.post(url, {"leads": [{"phone": "+390612345678", "fields": {"name": "A"}}, {"phone": "nope"}]},
                    format="json")
    assert r.status_code == 200
    assert (r.json()["imported"], r.json()["refused"][0]["reason"]) == (1, "bad_number")
    assert client.post(url, {"leads": []}, format="json").status_code == 400
    bad = client.post(url, {"file": SimpleUploadedFile("leads.txt", b"x")}, format="multipart")
    assert bad.status_code == 400 and "file" in bad.json()
    nophone = client.post(url, {"file": SimpleUploadedFile("l.csv", b"name\nA\n")}, format="multipart")
    assert nophone.status_code == 400
    assert Lead.objects.filter(lead_list=lead_list).count() == 1  # nothing half-saved by the bad bodies


def test_another_accounts_list_and_campaign_are_404(setup):
    _account, campaign, lead_list = setup
    stranger = client_for(factories.make_account())
    assert stranger.post(reverse("lead-list-import", args=[lead_list.pk]),
                         {"leads": [{"phone": "+390612345678"}]}, format="json").status_code == 404
    assert stranger.post(reverse("campaign-start", args=[campaign.pk])).status_code == 404
    assert stranger.get(reverse("attempt-list"), {"campaign": campaign.pk}).status_code == 400  # not a choice


def test_start_pause_and_illegal_transitions_by_the_api(setup):
    account, campaign, _ = setup
    client = client_for(account)
    r = client.post(reverse("campaign-start", args=[campaign.pk]))
    assert r.status_code == 200 and r.json()["state"] == CampaignState.RUNNING
    assert r.json()["state_changed_by"].startswith("api")
    assert client.post(reverse("campaign-pause", args=[campaign.pk])).json()["state"] == CampaignState.PAUSED
    client.post(reverse("campaign-finish", args=[campaign.pk]))
    r = client.post(reverse("campaign-start", args=[campaign.pk]))
    assert r.status_code == 409 and r.json()["code"] == "illegal_campaign_transition"


def test_disposition_do_not_call_lists_the_number(setup):
    account, campaign, lead_list = setup
    lead = Lead.objects.create(account=account, lead_list=lead_list, phone="+390612345678", timezone="Europe/Rome")
    other = Lead.objects.create(account=account, lead_list=LeadList.objects.create(
        account=account, campaign=campaign, name="Other"), phone=lead.phone, timezone="Europe/Rome")
    attempt = Attempt.objects.create(account=account, campaign=campaign, lead=lead, number=1,
                                     created_at=campaign.created_at, answered_at=campaign.created_at,
                                     outcome=AttemptOutcome.CONNECTED)
    client = client_for(account)
    r = client.post(reverse("attempt-disposition", args=[attempt.pk]), {"kind": "do_not_call"}, format="json")
    assert r.status_code == 201, r.content
    assert DoNotCall.objects.filter(account=account, phone=lead.phone).exists()
    assert Lead.objects.get(pk=other.pk).state == LeadState.DO_NOT_CALL
    r = client.post(reverse("attempt-disposition", args=[attempt.pk]), {"kind": "callback"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "callback_at"
    assert client.post(reverse("attempt-disposition", args=[attempt.pk]), {"kind": "nonsense"},
                       format="json").status_code == 400
    unanswered = Attempt.objects.create(account=account, campaign=campaign, lead=lead, number=2,
                                        created_at=campaign.created_at)
    assert client.post(reverse("attempt-disposition", args=[unanswered.pk]), {"kind": "sale"},
                       format="json").status_code == 409
    listed = client.get(reverse("attempt-list"), {"campaign": campaign.pk}).json()
    assert {a["id"] for a in listed["results"]} == {attempt.pk, unanswered.pk}


class TestCampaignApi(ApiResourceTests):
    basename = "campaign"
    model = Campaign

    def create_data(self, account):
        return {"name": "New", "service": factories.make_service(account, []).pk, "caller_id": "+390212345678",
                "mode": "predictive", "ring_seconds": 20}

    def update_data(self, account):
        return {"name": "Renamed"}

    def make_object(self, account):
        return Campaign.objects.create(account=account, name="Old", service=factories.make_service(account, []),
                                       caller_id="+390212345678")


def test_ring_time_under_15_s_and_bad_hours_are_refused(setup):
    account, campaign, _ = setup
    client = client_for(account)
    url = reverse("campaign-detail", args=[campaign.pk])
    r = client.patch(url, {"ring_seconds": 10}, format="json")
    assert r.status_code == 400 and "ring_seconds" in r.json()
    r = client.patch(url, {"calling_hours": {"mon": ["20:00", "09:00"]}}, format="json")
    assert r.status_code == 400 and "calling_hours" in r.json()
    campaign.refresh_from_db()
    assert campaign.ring_seconds == 25
    assert actions.change_campaign_state(campaign.pk, CampaignState.RUNNING, by="x").state == "running"
