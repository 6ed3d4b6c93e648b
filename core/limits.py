"""Bounded work per request, enforced at the edge before any view parses anything.

Django caps a body it reads into memory (DATA_UPLOAD_MAX_MEMORY_SIZE) but not its JSON nesting: Python's
json module recurses once per level, so a signed webhook event nested 100,000 deep raised RecursionError in
the view (a 500). `json_depth` measures the nesting in one linear pass without recursing, and the middleware
refuses a JSON body nested deeper than JSON_MAX_DEPTH, or any body longer than REQUEST_MAX_BYTES, with the
API's error shape. The WebSocket consumers use the same check on every message they receive.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

# A JSON string literal (escapes included): brackets inside strings do not nest anything.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[^\[\]{}]+")


def json_depth(raw: bytes | str, stop_at: int | None = None) -> int:
    """The deepest nesting of arrays and objects in a JSON text (0 for a scalar). Linear and iterative;
    returns as soon as `stop_at` is passed, so a hostile body costs one scan at most."""
    data = raw.encode() if isinstance(raw, str) else raw
    brackets = _BRACKETS.sub(b"", _STRING.sub(b'""', data))
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_at is not None and deepest > stop_at:
                    return deepest
        else:
            depth -= 1
    return deepest


def too_deep(raw: bytes | str) -> bool:
    return json_depth(raw, stop_at=settings.JSON_MAX_DEPTH) > settings.JSON_MAX_DEPTH


def _refuse(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


class RequestLimitsMiddleware:
    """Refuse a body over REQUEST_MAX_BYTES (413) and a JSON body nested over JSON_MAX_DEPTH (400)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(400, "Content-Length is not a number.")
        if length > settings.REQUEST_MAX_BYTES:
            return _refuse(413, f"The request body is larger than {settings.REQUEST_MAX_BYTES} bytes.")
        if "json" in request.META.get("CONTENT_TYPE", ""):  # with or without a Content-Length (chunked)
            try:
                body = request.body
            except RequestDataTooBig:
                return _refuse(413, f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} "
                                    "bytes.")
            if too_deep(body):
                return _refuse(400, f"The JSON body is nested deeper than {settings.JSON_MAX_DEPTH} levels.")
        return self.get_response(request)
