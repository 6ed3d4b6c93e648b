"""docs/integrator-guide.md's examples run as written, against a live web process: the Python blocks in order,
in one namespace (with BASE_URL, TOKEN, ACCOUNT and SECRET defined), and the shell blocks with bash (with
CENTRALINO_URL, CENTRALINO_TOKEN, CENTRALINO_ACCOUNT and CENTRALINO_SECRET set). A guide whose example broke
fails here."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

from telephony.choices import BuiltinPrompt
from telephony.port import COMMAND_TYPES, EVENT_TYPES
from tests import factories

GUIDE = settings.BASE_DIR / "docs" / "integrator-guide.md"
BLOCK = re.compile(r"^```(python|sh)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(kind: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(GUIDE.read_text()) if lang == kind]


def test_the_guide_has_examples_of_both_kinds():
    assert len(blocks("python")) >= 5 and len(blocks("sh")) >= 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.multiprocess
def test_the_guides_examples_run_against_a_live_server(web_server):
    account = factories.make_account()
    token = factories.make_token(account)
    namespace = {"BASE_URL": web_server, "TOKEN": token, "ACCOUNT": account.slug, "SECRET": account.webhook_secret}
    for code in blocks("python"):
        exec(compile(code, str(GUIDE), "exec"), namespace)
    env = {**os.environ, "CENTRALINO_URL": web_server, "CENTRALINO_TOKEN": token,
           "CENTRALINO_ACCOUNT": account.slug, "CENTRALINO_SECRET": account.webhook_secret}
    for code in blocks("sh"):
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", code], env=env, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, f"{code}\n{result.stdout}\n{result.stderr}"
        assert result.stdout.strip().startswith(("{", "[")), result.stdout  # a JSON answer


def test_the_engine_guide_names_every_type_and_built_in_prompt_the_schema_has():
    """The engine guide and the schema's discriminated unions cover the port's every event, command and
    built-in prompt (a new one added to the port without documenting it fails here)."""
    guide = (settings.BASE_DIR / "docs" / "engine-guide.md").read_text()
    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    events, commands = schemas["EngineEventRequest"], schemas["EngineCommand"]
    assert events["discriminator"]["propertyName"] == commands["discriminator"]["propertyName"] == "type"
    assert set(events["discriminator"]["mapping"]) == set(EVENT_TYPES)
    assert set(commands["discriminator"]["mapping"]) == set(COMMAND_TYPES)
    assert len(events["oneOf"]) == len(EVENT_TYPES) and len(commands["oneOf"]) == len(COMMAND_TYPES)
    for kind in {*EVENT_TYPES, *COMMAND_TYPES}:
        assert f"`{kind}`" in guide, kind
    for prompt in BuiltinPrompt.values:
        assert f"`{prompt}`" in guide, prompt
    prompt_choices = schemas["RingCommand"]["properties"]["whisper"]["anyOf"][0]["enum"]
    assert prompt_choices == BuiltinPrompt.values
    digits = schemas["DigitsEventRequest"]["properties"]["digits"]
    assert "minLength" not in digits and "typed nothing" in digits["description"]
