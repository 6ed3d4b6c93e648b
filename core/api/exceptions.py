"""API error shape: always an object: DRF's field → messages, `detail`, and the actions' `code` + `detail`;
Django ValidationError mapped to 400; the database out of reach mapped to 503 (try again)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ActionError

log = logging.getLogger(__name__)
DATABASE_RETRY_AFTER_SECONDS = 5


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(as_serializer_error(exc))
    if isinstance(exc, ActionError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, OperationalError | InterfaceError):
        # PostgreSQL down or restarting (refused, or no pooled connection within DB_POOL_TIMEOUT): nothing was
        # committed, so the client (an engine, an integration) may send the same request again.
        log.warning("answered 503: the database does not answer (%s)", exc)
        return Response({"code": "database_unavailable", "detail": "The database does not answer; try again "
                         "shortly."}, status=503, headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
    if isinstance(exc, ProtectedError | RestrictedError):
        # Deleting what other objects still use (a service a campaign dials for): nothing was deleted.
        names = sorted({str(obj._meta.verbose_name_plural) for obj in exc.protected_objects
                        if hasattr(obj, "_meta")}) if isinstance(exc, ProtectedError) else []
        return Response({"code": "protected", "detail": "Other objects still use this one; change or delete "
                         "them first." + (f" ({', '.join(names)})" if names else "")}, status=409)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        # A ValidationError raised about the request as a whole (e.g. a search term with a NUL) renders as a
        # bare list: keep the one error shape, an object.
        response.data = {"non_field_errors": response.data}
    return response


@csrf_exempt  # it changes nothing: a session cookie without a CSRF token must meet the 404, not an HTML 403
def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any /api/v1/ path no route matches (e.g. `/operators/0.5/`): the API's 404 in its one error shape,
    never Django's HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)
