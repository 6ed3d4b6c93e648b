"""Prompt uploads are checked by their content, never by their file name."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from mutagen import MutagenError
from mutagen.mp3 import MP3
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from .choices import AudioFormat

# How a prompt of each format is stored and served: its file extension and its Content-Type.
AUDIO_EXTENSIONS = {AudioFormat.WAV: "wav", AudioFormat.MP3: "mp3", AudioFormat.OGG: "ogg"}
AUDIO_CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg"}


@dataclass(frozen=True)
class AudioInfo:
    format: str
    duration: float


def sniff_format(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return AudioFormat.WAV
    if head[:4] == b"OggS":
        return AudioFormat.OGG
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0):
        return AudioFormat.MP3
    return None


def inspect_audio(data: bytes) -> AudioInfo:
    """Return the format and duration of a WAV, MP3 or OGG file, or raise a readable ValidationError."""
    if len(data) > settings.PROMPT_MAX_BYTES:
        raise ValidationError(_("The file is larger than %(max)d MB.")
                              % {"max": settings.PROMPT_MAX_BYTES // (1024 * 1024)}, code="too_large")
    kind = sniff_format(data[:16])
    if kind is None:
        raise ValidationError(_("This file is not WAV, MP3 or OGG audio."), code="not_audio")
    try:
        if kind == AudioFormat.WAV:
            duration = WAVE(io.BytesIO(data)).info.length
        elif kind == AudioFormat.MP3:
            duration = MP3(io.BytesIO(data)).info.length
        else:
            try:
                duration = OggVorbis(io.BytesIO(data)).info.length
            except MutagenError:
                duration = OggOpus(io.BytesIO(data)).info.length
    except (MutagenError, ValueError, struct.error) as exc:
        raise ValidationError(_("This file is not WAV, MP3 or OGG audio."), code="not_audio") from exc
    if not duration or duration <= 0:
        raise ValidationError(_("The audio is empty."), code="empty")
    if duration > settings.PROMPT_MAX_SECONDS:
        raise ValidationError(_("The audio lasts more than %(max)d seconds.")
                              % {"max": settings.PROMPT_MAX_SECONDS}, code="too_long")
    return AudioInfo(format=kind, duration=round(duration, 2))

