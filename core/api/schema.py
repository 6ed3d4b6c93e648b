"""The OpenAPI schema tells every answer an endpoint can give, errors included (schemathesis holds it to that).

drf-spectacular documents only the success codes; this AutoSchema adds, to every operation, the error
codes the view can actually answer — 400 where there is input, 401/403 where it authenticates, 404 where
the path names an object, 429 where it throttles — all with the one JSON error shape.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    """The one error body of the API (DRF's, with the product's action errors in the same shape)."""

    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False)


class ErrorSerializerScheme(OpenApiSerializerExtension):
    target_class = ErrorSerializer

    def map_serializer(self, auto_schema, direction) -> dict[str, Any]:
        return {
            "type": "object",
            "description": "Every error: `detail` (a sentence) and, for refused actions, `code` (e.g. "
                           "`REACH_PLAN_LIMIT`, `ILLEGAL_TRANSITION`); for invalid input, each field's name "
                           "with its messages (a list; an object or a list of objects for nested fields), "
                           "and `non_field_errors` for the input as a whole.",
            "properties": {
                "detail": {"type": "string"},
                # A refused action's code, or the messages about an input field named `code`.
                "code": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                "non_field_errors": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": {"description": "The messages about the field of this name."},
        }


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: nothing was changed. The body names each field in error.",
    "401": "No credentials, or an unknown or revoked API token (or a bad webhook signature).",
    "403": "Authenticated, but not allowed to do this.",
    "404": "No such object in this account (another account's object answers the same).",
    "409": "The object's state does not allow this now (e.g. a campaign already finished), or other objects still "
           "depend on it (delete those first).",
    "413": "The request body is larger than the server accepts.",
    "415": "The body's content type is not one the operation reads (JSON, or multipart where it takes a file).",
    "429": "Too many requests: wait for the time in the Retry-After header.",
}


# Ordering and search ignore a value they cannot use instead of refusing it; pagination refuses a page past
# its bounds (core/api/pagination.py) with a 400.
LENIENT_QUERY_PARAMETERS = frozenset({"ordering", "search"})


def model_field_of(field: serializers.Field):
    """The model field a ModelSerializer field reads, or None."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source or field.source == "*":
        return None
    try:
        return model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's, with the error answers each operation can give."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False) -> dict[str, Any]:
        """DRF drops `allow_blank` from read-only fields, so a blank choice (an operator never paused, a call
        not ended) would be missing from the documented enum: add it back from the model field."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.ChoiceField) and field.read_only and "enum" in schema:
            model_field = model_field_of(field)
            if model_field is not None and model_field.blank and "" not in schema["enum"]:
                schema["enum"] = [*schema["enum"], ""]
        return schema

    def map_parsers(self) -> list[str]:
        """One request content type per operation: JSON, or multipart where the body carries a file.

        The views also read forms, but a schema that offers three content types with one body makes
        client generators pick the last one (openapi-python-client sent every write as multipart and
        left `Unset` undefined in 20 modules); the documented type is the one integrators should send."""
        media_types = super().map_parsers()
        if len(media_types) <= 1:
            return media_types
        serializer = self.get_request_serializer()
        fields = getattr(force_instance(serializer), "fields", {}) if serializer is not None else {}
        takes_file = any(isinstance(field, serializers.FileField) for field in fields.values())
        wanted = "multipart/form-data" if takes_file else "application/json"
        return [wanted] if wanted in media_types else media_types[:1]

    def _get_response_bodies(self, direction="response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, response in responses.items():
            if code[:1] == "4" and "content" not in response:
                # An error documented by its description only (`OpenApiResponse(description=...)`) still has
                # the one error body.
                described = response.get("description")
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                responses[code]["description"] = described or ERROR_DESCRIPTIONS.get(code, "")
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                responses[code]["description"] = ERROR_DESCRIPTIONS[code]
        return responses

    def _error_codes(self) -> list[str]:
        codes = []
        if self._takes_input():
            codes.append("400")
        authenticators = self.view.get_authenticators()
        if authenticators and authenticators[0].authenticate_header(None):  # as DRF picks 401 over 403
            codes.append("401")
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes.append("403")
        if "{" in self.path:
            codes.append("404")
        if self.method == "DELETE" or (self.method == "POST" and "{" in self.path):
            codes.append("409")  # a protected object still referred to; an action the state refuses
        if self.method in ("POST", "PUT", "PATCH"):
            codes.extend(["413", "415"])
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def _takes_input(self) -> bool:
        if self.method in ("POST", "PUT", "PATCH"):
            return True
        return any(param.get("in") == "query" for param in self._get_parameters()
                   if param.get("name") not in LENIENT_QUERY_PARAMETERS)
