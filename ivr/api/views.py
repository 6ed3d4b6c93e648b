from __future__ import annotations

import datetime as dt

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import AccountScopedViewSet
from core.clock import now

from ..models import Menu
from ..stats import option_counts
from .serializers import MenuSerializer, MenuStatsSerializer

MAX_STATS_DAYS = 93


class MenuViewSet(AccountScopedViewSet):
    queryset = Menu.objects.prefetch_related("options", "numbers")
    serializer_class = MenuSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]

    @extend_schema(parameters=[OpenApiParameter("days", int, description="1 to 93 (default 7)")],
                   responses={200: MenuStatsSerializer})
    @action(detail=True, methods=["get"])
    def stats(self, request: Request, pk: str | None = None) -> Response:
        """How often each option of the menu was chosen over the last `days` days, with the invalid
        choices, the silences and the callers sent to the fallback."""
        raw = request.query_params.get("days", "7")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_STATS_DAYS:
            raise ValidationError({"days": [f"A whole number of days from 1 to {MAX_STATS_DAYS}."]})
        end = now()
        counts = option_counts(self.get_object(), end - dt.timedelta(days=int(raw)), end)
        return Response(MenuStatsSerializer(counts).data)
