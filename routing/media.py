"""Prompt audio, served with a Content-Type that can only be audio.

Engines fetch prompts by URL (the `Play` commands carry it) and the admin plays them, so the files are public
under unguessable, server-chosen names (routing.models.prompt_upload_to). Only the three audio extensions are
served, each with its fixed audio type, `X-Content-Type-Options: nosniff`, a sandboxing Content-Security-Policy
and an inline Content-Disposition: whatever bytes a file holds, a browser never runs it as a page. A file of
an older upload stored under another extension (`evil.html`) is not served at all.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, Http404, HttpRequest
from django.utils._os import safe_join

from .audio import AUDIO_CONTENT_TYPES


def prompt_audio(request: HttpRequest, name: str) -> FileResponse:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    content_type = AUDIO_CONTENT_TYPES.get(extension)
    if content_type is None:
        raise Http404("Not a prompt.")
    try:
        path = Path(safe_join(Path(settings.MEDIA_ROOT) / "prompts", name))
    except SuspiciousFileOperation as exc:  # a path leaving the prompts folder
        raise Http404("Not a prompt.") from exc
    if not path.is_file():
        raise Http404("Not a prompt.")
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Content-Disposition"] = f'inline; filename="prompt.{extension}"'
    return response
