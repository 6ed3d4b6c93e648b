from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import AccountScopedViewSet
from core.api.schema import ErrorSerializer

from .. import actions
from ..choices import PauseSource, Via
from ..filtersets import OperatorFilterSet, PauseReasonFilterSet
from ..models import Operator, PauseReason
from .serializers import (
    OperatorSerializer,
    OperatorStateSerializer,
    PauseReasonSerializer,
    PauseRequestSerializer,
)

# A presence change the operator's state does not allow (e.g. resume when not paused).
PRESENCE_ANSWERS = {200: OperatorStateSerializer, 409: OpenApiResponse(
    ErrorSerializer, description="Refused by the operator's state machine: `code` tells why.")}


class OperatorViewSet(AccountScopedViewSet):
    queryset = Operator.objects.select_related("pause_reason")
    serializer_class = OperatorSerializer
    filterset_class = OperatorFilterSet
    search_fields = ["name", "login"]
    ordering_fields = ["name", "login", "code", "state"]

    def _state(self, operator: Operator) -> Response:
        return Response(OperatorStateSerializer(actions.operator_snapshot(operator)).data)

    @extend_schema(request=None, responses=PRESENCE_ANSWERS)
    @action(detail=True, methods=["post"])
    def login(self, request: Request, pk: str | None = None) -> Response:
        return self._state(actions.login_operator(self.get_object().pk, via=Via.API))

    @extend_schema(request=PauseRequestSerializer, responses=PRESENCE_ANSWERS)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        body = PauseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._state(actions.pause_operator(self.get_object().pk, reason_id=body.validated_data.get("reason"),
                                                  source=PauseSource.OPERATOR, via=Via.API))

    @extend_schema(request=None, responses=PRESENCE_ANSWERS)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        return self._state(actions.resume_operator(self.get_object().pk, via=Via.API))

    @extend_schema(request=None, responses=PRESENCE_ANSWERS)
    @action(detail=True, methods=["post"])
    def logoff(self, request: Request, pk: str | None = None) -> Response:
        return self._state(actions.logoff_operator(self.get_object().pk, via=Via.API))


class PauseReasonViewSet(AccountScopedViewSet):
    queryset = PauseReason.objects.all()
    serializer_class = PauseReasonSerializer
    filterset_class = PauseReasonFilterSet
    search_fields = ["name"]
