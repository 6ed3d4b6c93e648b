"""Every list is a page of at most MAX_LIMIT rows: a larger `limit` is a 400 naming it (DRF's own pagination
clamps it silently, or with no maximum set, returns the whole table)."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 500
MAX_OFFSET = 10_000_000


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def _number(self, request, name: str, default: int | None, most: int) -> int | None:
        raw = request.query_params.get(name)
        if raw in (None, ""):
            return default
        if not raw.isdigit() or int(raw) > most or (name == self.limit_query_param and int(raw) == 0):
            low = 1 if name == self.limit_query_param else 0
            raise ValidationError({name: [f"A whole number from {low} to {most}."]})
        return int(raw)

    def get_limit(self, request) -> int | None:
        return self._number(request, self.limit_query_param, self.default_limit, MAX_LIMIT)

    def get_offset(self, request) -> int:
        return self._number(request, self.offset_query_param, 0, MAX_OFFSET)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1, "maximum": MAX_LIMIT}
            if parameter["name"] == self.offset_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 0, "maximum": MAX_OFFSET}
        return parameters
