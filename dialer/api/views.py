"""The dialer's API: campaigns (+ start, pause, finish), lead lists (+ bulk import with its report), attempts
and dispositions. Every list is the token's account's own; views parse input and call actions."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.api.base import AccountScopedViewSet
from accounts.scoping import request_account
from agents.models import Operator

from .. import actions, imports
from ..choices import CampaignState
from ..filtersets import AttemptFilterSet, CampaignFilterSet, LeadListFilterSet
from ..models import Attempt, Campaign, Disposition, LeadList
from .serializers import (
    AttemptSerializer,
    CampaignSerializer,
    DispositionRequestSerializer,
    DispositionSerializer,
    ImportReportSerializer,
    LeadImportSerializer,
    LeadListSerializer,
)


def _by(request: Request) -> str:
    return f"api:{request.user}"[:150]


class CampaignViewSet(AccountScopedViewSet):
    queryset = Campaign.objects.select_related("service")
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilterSet
    search_fields = ["name"]
    ordering_fields = ["name", "state", "created_at"]

    def _change(self, request: Request, to_state: str) -> Response:
        campaign = actions.change_campaign_state(self.get_object().pk, to_state, by=_by(request))
        return Response(CampaignSerializer(campaign, context={"request": request}).data)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._change(request, CampaignState.RUNNING)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        return self._change(request, CampaignState.PAUSED)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def finish(self, request: Request, pk: str | None = None) -> Response:
        return self._change(request, CampaignState.FINISHED)


class LeadListViewSet(AccountScopedViewSet):
    queryset = LeadList.objects.select_related("campaign")
    serializer_class = LeadListSerializer
    filterset_class = LeadListFilterSet
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=LeadImportSerializer, responses={200: ImportReportSerializer, 400: OpenApiResponse(
        description="The body or file cannot be read at all (nothing imported).")})
    @action(detail=True, methods=["post"], url_path="import", url_name="import")
    def import_leads(self, request: Request, pk: str | None = None) -> Response:
        """Bulk import: JSON {"leads": [{"phone", "timezone"?, "fields"?}, ...]} or a multipart `file` (CSV or
        XLSX). The answer reports every refused row with its reason; the good rows are imported."""
        lead_list = self.get_object()
        upload = request.FILES.get("file")
        if upload is not None:
            if upload.size > 20 * 1024 * 1024:
                raise ValidationError({"file": ["At most 20 MB."]})
            try:
                rows = imports.read_file(upload.read(), upload.name)
            except imports.ImportFileError as exc:
                raise ValidationError({"file": [str(exc)]}) from exc
        else:
            body = LeadImportSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            rows = [{"phone": r["phone"], "timezone": r.get("timezone", ""), **r.get("fields", {})}
                    for r in body.validated_data["leads"]]
        try:
            report = imports.import_rows(lead_list, rows, fallback_timezone=lead_list.account.timezone)
        except imports.ImportFileError as exc:
            raise ValidationError({"leads": [str(exc)]}) from exc
        return Response(report.as_dict(), status=status.HTTP_200_OK)


class AttemptViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Attempts (read-only) and the operator's disposition of one (the console calls it)."""

    queryset = Attempt.objects.select_related("lead", "disposition")
    serializer_class = AttemptSerializer
    filterset_class = AttemptFilterSet
    ordering_fields = ["created_at", "ended_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return super().get_queryset().filter(account=request_account(self.request))

    @extend_schema(request=DispositionRequestSerializer, responses={201: DispositionSerializer, 409: OpenApiResponse(
        description="The attempt was not answered, or a callback has no future time.")})
    @action(detail=True, methods=["post"])
    def disposition(self, request: Request, pk: str | None = None) -> Response:
        attempt = self.get_object()  # another account's attempt is a 404 whatever the body says
        body = DispositionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        operator_id = request.data.get("operator")
        if operator_id is not None and (isinstance(operator_id, bool) or not str(operator_id).isdigit()
                                        or len(str(operator_id)) > 18 or not Operator.objects.filter(
                                            pk=int(operator_id), account=request_account(request)).exists()):
            raise ValidationError({"operator": ["No such operator."]})
        operator_id = int(operator_id) if operator_id is not None else None
        disposition = actions.set_disposition(attempt.pk, body.validated_data["kind"], operator_id=operator_id,
                                              callback_at=body.validated_data.get("callback_at"),
                                              note=body.validated_data.get("note", ""), by=_by(request))
        return Response(DispositionSerializer(disposition).data, status=status.HTTP_201_CREATED)


class DispositionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Disposition.objects.select_related("attempt")
    serializer_class = DispositionSerializer
    ordering = ["-at"]

    def get_queryset(self):
        return super().get_queryset().filter(attempt__account=request_account(self.request))
