"""The admin: every page answers, supervisors are scoped to their account, the Setup page tracks the six steps."""

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agents import actions as agent_actions
from agents.models import Operator
from core.audio import tone_wav
from routing.models import PhoneNumber, Prompt
from tests import factories

pytestmark = pytest.mark.django_db

MODELS = [model for model in admin.site._registry]


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_superuser_sees_every_changelist_and_add_page(client, model):
    account = factories.make_account()
    factories.make_service(account, [(factories.make_operator(account), 5)])
    client.force_login(factories.make_superuser())
    assert client.get(admin_url(model, "changelist")).status_code == 200
    add = client.get(admin_url(model, "add"))
    writable = admin.site._registry[model].has_add_permission(_request_for(client))
    # Records written only by actions (logs, calls, leases, invoices) cannot be added by hand.
    assert add.status_code == (200 if writable else 403)


def test_call_page_shows_offers_and_queue_log(client):
    from acd.models import Call, CallEvent

    account = factories.make_account()
    call = Call.objects.create(account=account, engine_ref="c1", caller="+393331112222", arrived_at="2026-03-02T09:00Z")
    CallEvent.objects.create(account=account, call=call, at="2026-03-02T09:00Z", kind="arrived")
    client.force_login(factories.make_supervisor(account))
    page = client.get(admin_url(Call, "change", call.pk))
    assert page.status_code == 200
    assert "+393331112222" in page.content.decode() and "Queue log" in page.content.decode()
    other = factories.make_supervisor(factories.make_account())
    client.force_login(other)
    assert client.get(admin_url(Call, "change", call.pk)).status_code == 302


def _request_for(client):
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    return request


SUPERVISOR_MODELS = ["routing.PhoneNumber", "routing.Service", "routing.Prompt", "routing.CallerRoute",
                     "agents.Operator", "agents.PauseReason", "accounts.ApiToken"]


@pytest.mark.parametrize("label", SUPERVISOR_MODELS)
def test_supervisor_sees_the_setup_pages(client, label):
    from django.apps import apps

    model = apps.get_model(label)
    account = factories.make_account()
    client.force_login(factories.make_supervisor(account))
    assert client.get(admin_url(model, "changelist")).status_code == 200
    page = client.get(admin_url(model, "add"))
    assert page.status_code == 200
    assert 'name="account"' not in page.content.decode()  # the account is theirs, not a choice


def test_supervisor_sees_only_own_objects(client):
    mine, theirs = factories.make_account(), factories.make_account()
    own = factories.make_operator(mine, name="Mine")
    other = factories.make_operator(theirs, name="Theirs")
    client.force_login(factories.make_supervisor(mine))
    page = client.get(admin_url(Operator, "changelist")).content.decode()
    assert "Mine" in page and "Theirs" not in page
    assert client.get(admin_url(Operator, "change", other.pk)).status_code == 302  # "doesn't exist" redirect
    assert client.get(admin_url(Operator, "change", own.pk)).status_code == 200


def test_supervisor_creates_operator_with_hashed_password(client):
    account = factories.make_account()
    client.force_login(factories.make_supervisor(account))
    response = client.post(admin_url(Operator, "add"), {
        "name": "Anna", "login": "anna", "new_password": "anna-password-1", "code": 5, "new_pin": "2468",
        "endpoint_kind": "phone", "endpoint": "+393401234567", "is_active": "on"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    op = Operator.objects.get(login="anna")
    assert op.account == account
    assert op.check_password("anna-password-1") and op.check_pin("2468")


def test_admin_refuses_bad_number_and_saves_nothing(client):
    account = factories.make_account()
    client.force_login(factories.make_supervisor(account))
    response = client.post(admin_url(PhoneNumber, "add"), {"number": "02 12", "is_active": "on"})
    assert response.status_code == 200
    assert "number" in response.context["adminform"].form.errors
    assert not PhoneNumber.objects.exists()


def test_admin_prompt_upload_checks_content_and_shows_player(client):
    account = factories.make_account()
    client.force_login(factories.make_supervisor(account))
    bad = client.post(admin_url(Prompt, "add"), {"name": "x", "kind": "welcome",
                                                  "audio": SimpleUploadedFile("x.wav", b"RIFFnot really")})
    assert "audio" in bad.context["adminform"].form.errors
    good = client.post(admin_url(Prompt, "add"), {"name": "Hello", "kind": "welcome",
                                                   "audio": SimpleUploadedFile("h.wav", tone_wav(1.0))})
    assert good.status_code == 302
    prompt = Prompt.objects.get()
    assert (prompt.audio_format, float(prompt.duration_seconds)) == ("wav", 1.0)
    page = client.get(admin_url(Prompt, "change", prompt.pk)).content.decode()
    assert "<audio controls" in page


def test_admin_presence_actions(client):
    account = factories.make_account()
    op = factories.make_operator(account)
    client.force_login(factories.make_supervisor(account))
    client.post(admin_url(Operator, "changelist"), {"action": "login_selected", "_selected_action": [op.pk]})
    op.refresh_from_db()
    assert op.state == "available"
    response = client.post(admin_url(Operator, "changelist"), {"action": "resume_selected",
                                                               "_selected_action": [op.pk]}, follow=True)
    assert "Only a paused operator can resume." in response.content.decode()


def steps_done(client, account):
    page = client.get(reverse("admin:accounts_account_setup", args=[account.pk]))
    assert page.status_code == 200
    return {step.number: step.done for step in page.context["steps"]}


def test_setup_page_reflects_each_step(client):
    account = factories.make_account()
    client.force_login(factories.make_supervisor(account))
    assert steps_done(client, account) == {1: False, 2: False, 3: False, 4: False, 5: False, 6: False}
    op = factories.make_operator(account)
    assert steps_done(client, account)[2] is True
    service = factories.make_service(account, [(op, 5)])
    assert steps_done(client, account)[3] is True
    factories.make_number(account, service)
    assert steps_done(client, account)[1] is True
    data = tone_wav(0.5)
    prompt = Prompt(account=account, name="w", kind="welcome", audio_format="wav", duration_seconds=0.5,
                    size_bytes=len(data))
    prompt.audio.save("w.wav", SimpleUploadedFile("w.wav", data), save=True)
    service.welcome_prompt = prompt
    service.save()
    assert steps_done(client, account)[4] is True
    agent_actions.login_operator(op.pk)
    assert steps_done(client, account)[5] is True
    reason = factories.make_pause_reason(account)
    assert steps_done(client, account)[6] is False  # a list of reasons is not a pause
    agent_actions.pause_operator(op.pk, reason_id=reason.pk)
    assert steps_done(client, account)[6] is False  # nobody logged off yet
    agent_actions.resume_operator(op.pk)
    agent_actions.logoff_operator(op.pk)
    assert all(steps_done(client, account).values())


def test_supervisor_cannot_open_another_accounts_setup(client):
    mine, theirs = factories.make_account(), factories.make_account()
    client.force_login(factories.make_supervisor(mine))
    assert client.get(reverse("admin:accounts_account_setup", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("admin:accounts_account_my_setup")).url == reverse(
        "admin:accounts_account_setup", args=[mine.pk])


def test_admin_speaks_italian(client):
    client.force_login(factories.make_superuser())
    page = client.get(admin_url(Operator, "changelist"), HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "Operatori" in page
    assert "In pausa" in client.get(admin_url(Operator, "changelist") + "?state=paused",
                                    HTTP_ACCEPT_LANGUAGE="it").content.decode()


def test_admin_home_links_the_setup_wallboard_and_console(client):
    client.force_login(factories.make_supervisor(factories.make_account()))
    page = client.get(reverse("admin:index")).content.decode()
    for name in ("wallboard", "console-login", "admin:accounts_account_my_setup"):
        assert f'href="{reverse(name)}"' in page
