"""The setup guides (progress, back to it after each save, done only when it works); the admin reads as a
product (title, favicon, local docs, the account's time zone and country, m:ss durations, forms that help)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from acd.models import Call
from agents.models import Operator
from core.formatting import duration
from routing.models import PhoneNumber, Prompt, Service
from tests import factories

pytestmark = pytest.mark.django_db


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def setup_page(client, account):
    return client.get(reverse("admin:accounts_account_setup", args=[account.pk]))


def test_progress_plurals_and_the_next_step(client):
    account = factories.make_account()
    client.force_login(factories.make_supervisor(account))
    page = setup_page(client, account)
    html = page.content.decode()
    assert "0 of 6 steps done" in html and 'aria-valuenow="0"' in html
    assert page.context["next_step"].number == 1
    op = factories.make_operator(account)
    service = factories.make_service(account, [(op, 5)])
    factories.make_number(account, service)
    html = setup_page(client, account).content.decode()
    assert "1 active number," in html and "1 operator who can log in" in html and "1 service," in html
    assert "3 of 6 steps done" in html


def test_a_number_counts_only_when_it_reaches_someone_who_can_log_in(client):
    account = factories.make_account()
    client.force_login(factories.make_supervisor(account))
    service = factories.make_service(account)  # nobody in it
    factories.make_number(account, service)
    steps = {s.number: s.done for s in setup_page(client, account).context["steps"]}
    assert steps[1] is False and steps[3] is False
    op = factories.make_operator(account)
    Operator.objects.filter(pk=op.pk).update(password="")  # no password: cannot log in
    service.operators.add(op, through_defaults={"skill_level": 5})
    steps = {s.number: s.done for s in setup_page(client, account).context["steps"]}
    assert steps[1] is False and steps[2] is False and steps[3] is False


def test_a_form_opened_from_the_setup_returns_to_it(client):
    account = factories.make_account()
    client.force_login(factories.make_supervisor(account))
    step6 = next(s for s in setup_page(client, account).context["steps"] if s.number == 6)
    assert step6.url.endswith("?_setup=6")
    response = client.post(step6.url, {"name": "Lunch", "is_active": "on"})
    assert response.status_code == 302
    assert response.url == reverse("admin:accounts_account_my_setup") + "?saved=6"
    followed = client.get(response.url, follow=True)
    assert "Step 6 saved." in followed.content.decode()
    # "Save and add another" keeps the supervisor on the form.
    again = client.post(step6.url, {"name": "Meeting", "is_active": "on", "_addanother": "1"})
    assert again.url.startswith(reverse("admin:agents_pausereason_add"))


def test_title_favicon_and_the_resellers_name(client):
    reseller = factories.make_account(name="Telefonia Rossi")
    client_account = factories.make_account(parent=reseller)
    client.force_login(factories.make_supervisor(factories.make_account()))
    html = client.get(reverse("admin:index")).content.decode()
    assert "Centralino" in html and "Django administration" not in html and "Django site admin" not in html
    assert 'rel="icon"' in html
    client.force_login(factories.make_supervisor(client_account))
    html = client.get(reverse("admin:index")).content.decode()
    assert "Telefonia Rossi</a>" in html and "| Telefonia Rossi</title>" in html


def test_api_docs_are_served_by_the_project(client):
    for name in ("api-docs", "api-redoc"):
        html = client.get(reverse(name)).content.decode()
        assert "/static/drf_spectacular_sidecar/" in html
        assert "cdn" not in html.lower()


def test_times_in_the_account_time_zone_and_durations_as_m_ss(client):
    account = factories.make_account(timezone="Europe/Rome")
    Call.objects.create(account=account, engine_ref="c1", caller="+393331112222",
                        arrived_at=dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC), wait_seconds=1.506035,
                        talk_seconds=75.4)
    client.force_login(factories.make_supervisor(account))
    html = client.get(admin_url(Call, "changelist")).content.decode()
    assert "11:30" in html and "9:30" not in html  # 09:30 UTC is 11:30 in Rome in July
    assert "0:02" in html and "1:15" in html and "1.506035" not in html
    assert duration(3725) == "1:02:05" and duration(None) == "—"


def test_national_numbers_are_read_in_the_accounts_country(client):
    account = factories.make_account()  # Italian by default
    service = factories.make_service(account)
    client.force_login(factories.make_supervisor(account))
    response = client.post(admin_url(PhoneNumber, "add"), {"number": "02 1234 5678", "service": service.pk,
                                                            "purpose": "calls", "is_active": "on"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert PhoneNumber.objects.get(account=account).number == "+390212345678"
    response = client.post(admin_url(Operator, "add"), {
        "name": "Ada", "login": "ada", "code": "5", "new_password": "pw-long-enough", "endpoint_kind": "phone",
        "endpoint": "333 1234567", "is_active": "on"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Operator.objects.get(login="ada").endpoint == "+393331234567"


def test_the_operator_form_says_what_it_needs_and_keeps_the_password(client):
    account = factories.make_account()
    client.force_login(factories.make_supervisor(account))
    html = client.get(admin_url(Operator, "add")).content.decode()
    assert "Leave empty to keep the current password" not in html
    response = client.post(admin_url(Operator, "add"), {
        "name": "Ada", "login": "ada", "code": "5", "new_password": "pw-long-enough", "endpoint_kind": "sip",
        "endpoint": "not a uri", "is_active": "on"})
    assert "endpoint" in response.context["adminform"].form.errors
    assert 'value="pw-long-enough"' in response.content.decode()  # not cleared by another field's error
    op = factories.make_operator(account)
    assert "Leave empty to keep the current password" in client.get(
        admin_url(Operator, "change", op.pk)).content.decode()


def _prompt(account, name, kind):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.audio import tone_wav

    data = tone_wav(0.2)
    prompt = Prompt(account=account, name=name, kind=kind, audio_format="wav", duration_seconds=0.2,
                    size_bytes=len(data))
    prompt.audio.save(f"{name}.wav", SimpleUploadedFile(f"{name}.wav", data), save=True)
    return prompt


def test_the_service_form_offers_each_prompt_of_its_kind_and_groups_criterion_settings(client):
    account = factories.make_account()
    welcome, hold = _prompt(account, "hello", "welcome"), _prompt(account, "music", "hold")
    client.force_login(factories.make_supervisor(account))
    form = client.get(admin_url(Service, "add")).context["adminform"].form
    assert list(form.fields["hold_prompt"].queryset) == [hold]
    assert list(form.fields["welcome_prompt"].queryset) == [welcome]
    assert form.fields["pause_after_misses"].initial == 3
    html = client.get(admin_url(Service, "add")).content.decode()
    assert "depends-on-criterion when-skill" in html and "core/admin.js" in html
    prompts = client.get(admin_url(Prompt, "changelist")).content.decode()
    assert "0.200" not in prompts and "0,200" not in prompts  # durations are m:ss
    assert ">0:00<" in prompts


def test_the_default_auto_pause_is_after_three_missed_offers():
    assert Service(account=factories.make_account(), name="x").pause_after_misses == 3


def test_the_setup_speaks_italian_with_plurals(client):
    account = factories.make_account()
    op = factories.make_operator(account)
    factories.make_number(account, factories.make_service(account, [(op, 5)]))
    factories.make_number(account, factories.make_service(account))
    client.force_login(factories.make_supervisor(account))
    html = client.get(reverse("admin:accounts_account_setup", args=[account.pk]),
                      HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "2 numeri attivi, 1 raggiunge un servizio con operatori" in html
    assert "1 operatore che può collegarsi" in html
    assert "passi su 6 completati" in html
    assert "nessuno dei suoi operatori è collegato" in html  # nobody logged in: it would overflow
