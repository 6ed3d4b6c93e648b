"""Media the engine fetches (uploaded prompts): always an absolute URL on the platform's public address."""

from __future__ import annotations

from django.conf import settings


def absolute_media_url(url: str) -> str:
    """`url` (a storage URL such as `/media/prompts/welcome.wav`) on PUBLIC_BASE_URL, whose path (a platform
    served under `/centralino`) is kept; an already absolute URL (a storage on another host) as is."""
    if url.startswith(("http://", "https://")):
        return url
    return f"{settings.PUBLIC_BASE_URL}/{url.lstrip('/')}"
