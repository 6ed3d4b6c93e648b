"""Issue 13: the engine never guesses a host. An uploaded prompt goes out as an absolute URL on PUBLIC_BASE_URL
(which is validated when the settings load); a built-in prompt by its listed name."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile

from acd.prompts import BUILTIN_HOLD, prompt_ref
from callcenter.settings import public_base_url
from core.audio import tone_wav
from routing.choices import PromptKind
from routing.models import Prompt
from telephony.choices import BuiltinPrompt
from tests import factories


@pytest.mark.django_db
def test_an_uploaded_prompt_is_sent_as_an_absolute_url_on_the_public_base_url(settings):
    settings.PUBLIC_BASE_URL = "https://centralino.example.com"
    prompt = Prompt(account=factories.make_account(), name="Hold", kind=PromptKind.HOLD)
    prompt.audio = SimpleUploadedFile("hold.wav", tone_wav(0.2))
    prompt.full_clean()
    prompt.save()
    url = prompt_ref(prompt, BUILTIN_HOLD)
    assert url.startswith("https://centralino.example.com/media/prompts/") and url.endswith(".wav")
    assert prompt_ref(None, BUILTIN_HOLD) == "builtin:hold" == BuiltinPrompt.HOLD


@pytest.mark.parametrize("value", ["centralino.example.com", "ftp://centralino.example.com", "https://",
                                   "https://centralino.example.com/?a=1", "https://centralino.example.com/#x"])
def test_a_public_base_url_without_scheme_or_host_or_with_a_query_is_refused(value):
    with pytest.raises(ImproperlyConfigured, match="PUBLIC_BASE_URL"):
        public_base_url(value)


def test_a_public_base_url_loses_its_trailing_slash():
    assert public_base_url("https://pbx.example.com/centralino/") == "https://pbx.example.com/centralino"
