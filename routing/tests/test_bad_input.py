"""Each bad input answers 400 naming the field, and nothing is saved."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agents.models import Operator
from core.audio import tone_wav
from routing.models import PhoneNumber, Prompt, Service, ServiceMembership
from tests import factories
from tests.api import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return factories.make_account()


def post(account, basename, data, fmt="json"):
    return client_for(account).post(reverse(f"{basename}-list"), data, format=fmt)


@pytest.mark.parametrize("number", ["02 1234 5678", "390212345678", "+39 02 1234 5678", "+999123", "hello", ""])
def test_malformed_or_non_e164_number(account, number):
    response = post(account, "number", {"number": number})
    assert response.status_code == 400
    assert "number" in response.json()
    assert not PhoneNumber.objects.exists()


def test_number_held_by_another_account(account):
    factories.make_number(factories.make_account(), number="+390212345678")
    response = post(account, "number", {"number": "+390212345678"})
    assert response.status_code == 400
    assert response.json()["number"] == ["This number is already active on the platform."]
    assert PhoneNumber.objects.filter(account=account).count() == 0


def test_number_pointing_at_another_accounts_service(account):
    theirs = factories.make_service(factories.make_account())
    response = post(account, "number", {"number": "+390212345679", "service": theirs.pk})
    assert response.status_code == 400 and "service" in response.json()
    assert not PhoneNumber.objects.exists()


def operator_data(**kw):
    return {"name": "A", "login": "anna", "password": "long-enough-pass", "code": 7, "endpoint_kind": "sip",
            "endpoint": "sip:anna@pbx.example.com", **kw}


def test_duplicate_login(account):
    factories.make_operator(account, login="anna")
    response = post(account, "operator", operator_data())
    assert response.status_code == 400
    assert response.json() == {"login": ["Another operator of this account has this login."]}
    assert Operator.objects.count() == 1


def test_duplicate_operator_code(account):
    factories.make_operator(account, code=7)
    response = post(account, "operator", operator_data())
    assert response.status_code == 400
    assert response.json() == {"code": ["Another operator of this account has this code."]}
    assert Operator.objects.count() == 1


def test_same_login_in_another_account_is_fine(account):
    factories.make_operator(factories.make_account(), login="anna", code=7)
    assert post(account, "operator", operator_data()).status_code == 201


@pytest.mark.parametrize(("kind", "endpoint"), [("phone", "sip:a@b.example"), ("sip", "+390212345678"),
                                                ("phone", "0212345678")])
def test_endpoint_must_fit_its_kind(account, kind, endpoint):
    response = post(account, "operator", operator_data(endpoint_kind=kind, endpoint=endpoint))
    assert response.status_code == 400 and "endpoint" in response.json()
    assert not Operator.objects.exists()


@pytest.mark.parametrize("pin", ["12", "abcd", "123456789"])
def test_bad_pin(account, pin):
    response = post(account, "operator", operator_data(pin=pin))
    assert response.status_code == 400 and "pin" in response.json()
    assert not Operator.objects.exists()


def test_short_password(account):
    response = post(account, "operator", operator_data(password="short"))
    assert response.status_code == 400 and "password" in response.json()


@pytest.mark.parametrize("level", [0, 11, -1])
def test_skill_level_out_of_range(account, level):
    op = factories.make_operator(account)
    response = post(account, "service", {"name": "S", "memberships": [{"operator": op.pk, "skill_level": level}]})
    assert response.status_code == 400
    assert "skill_level" in response.json()["memberships"]["0"]
    assert not Service.objects.exists() and not ServiceMembership.objects.exists()


def test_membership_with_another_accounts_operator(account):
    theirs = factories.make_operator(factories.make_account())
    response = post(account, "service", {"name": "S", "memberships": [{"operator": theirs.pk, "skill_level": 5}]})
    assert response.status_code == 400 and "operator" in response.json()["memberships"]["0"]
    assert not Service.objects.exists()


def test_redirect_needs_a_number(account):
    response = post(account, "service", {"name": "S", "overflow_action": "redirect"})
    assert response.status_code == 400 and "overflow_number" in response.json()
    assert not Service.objects.exists()


def test_file_that_is_not_audio_whatever_its_extension(account):
    fake = SimpleUploadedFile("song.mp3", b"this is plain text pretending to be music" * 10, content_type="audio/mpeg")
    response = post(account, "prompt", {"name": "x", "kind": "welcome", "audio": fake}, fmt="multipart")
    assert response.status_code == 400
    assert response.json()["audio"] == ["This file is not WAV, MP3 or OGG audio."]
    assert not Prompt.objects.exists()


def test_truncated_wav_is_refused(account):
    broken = SimpleUploadedFile("w.wav", tone_wav(1.0)[:30])
    response = post(account, "prompt", {"name": "x", "kind": "welcome", "audio": broken}, fmt="multipart")
    assert response.status_code == 400 and "audio" in response.json()
    assert not Prompt.objects.exists()


def test_oversize_upload(account, settings):
    settings.PROMPT_MAX_BYTES = 10_000
    big = SimpleUploadedFile("big.wav", tone_wav(2.0))  # 32 kB
    response = post(account, "prompt", {"name": "x", "kind": "hold", "audio": big}, fmt="multipart")
    assert response.status_code == 400
    assert "larger than" in response.json()["audio"][0]
    assert not Prompt.objects.exists()


def test_too_long_audio(account, settings):
    settings.PROMPT_MAX_SECONDS = 1
    response = post(account, "prompt", {"name": "x", "kind": "hold", "audio": SimpleUploadedFile(
        "long.wav", tone_wav(2.0))}, fmt="multipart")
    assert response.status_code == 400 and "seconds" in response.json()["audio"][0]


def test_prompt_of_wrong_kind_on_service(account):
    client = client_for(account)
    prompt_id = client.post(reverse("prompt-list"), {"name": "hold", "kind": "hold", "audio": SimpleUploadedFile(
        "h.wav", tone_wav(0.5))}, format="multipart").json()["id"]
    response = post(account, "service", {"name": "S", "welcome_prompt": prompt_id})
    assert response.status_code == 400 and "welcome_prompt" in response.json()


@pytest.mark.parametrize("prefix", ["3902", "+39 02", "+", "+1234567890123456"])
def test_bad_caller_prefix(account, prefix):
    service = factories.make_service(account)
    response = post(account, "caller-route", {"prefix": prefix, "service": service.pk})
    assert response.status_code == 400 and "prefix" in response.json()
