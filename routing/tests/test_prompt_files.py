"""Issue 11, finding 3 (prompt files): a valid WAV uploaded as `evil.html` is stored under a name the server
chooses, with the extension of its content, and served only as audio (nosniff, inline, sandboxed)."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.audio import tone_wav
from routing.choices import PromptKind
from routing.models import Prompt
from tests import factories
from tests.api import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def upload(account, filename: str) -> Prompt:
    response = client_for(account).post("/api/v1/prompts/", {
        "name": "Welcome", "kind": PromptKind.WELCOME,
        "audio": SimpleUploadedFile(filename, tone_wav(0.5), content_type="text/html")}, format="multipart")
    assert response.status_code == 201, response.content
    return Prompt.objects.get(pk=response.json()["id"])


def test_a_wav_named_html_is_stored_as_wav_and_served_as_audio():
    account = factories.make_account()
    prompt = upload(account, "evil.html")
    stored = Path(prompt.audio.name)
    assert stored.suffix == ".wav" and "evil" not in stored.name
    assert stored.parent == Path("prompts") / str(account.pk)
    response = Client().get(urlsplit(prompt.audio.url).path)
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == tone_wav(0.5)


def test_two_uploads_with_one_name_get_two_files():
    first, second = factories.make_account(), factories.make_account()
    assert upload(first, "hold.wav").audio.name != upload(second, "hold.wav").audio.name


def test_a_file_with_another_extension_is_never_served(tmp_path):
    folder = Path(settings.MEDIA_ROOT) / "prompts" / "1"
    folder.mkdir(parents=True)
    (folder / "evil.html").write_bytes(b"<script>alert(1)</script>")  # stored before this fix
    assert Client().get("/media/prompts/1/evil.html").status_code == 404


def test_paths_leaving_the_prompts_folder_are_refused():
    (Path(settings.MEDIA_ROOT)).mkdir(parents=True, exist_ok=True)
    (Path(settings.MEDIA_ROOT) / "secret.wav").write_bytes(tone_wav(0.1))
    for path in ("/media/prompts/../secret.wav", "/media/prompts/%2e%2e/secret.wav", "/media/prompts/1/none.wav"):
        assert Client().get(path).status_code == 404, path
