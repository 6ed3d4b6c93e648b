"""The webhook backend's HTTP interface: an engine POSTs events and gets commands back."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.permissions import IsAccountMember
from accounts.scoping import request_account
from telephony import outbox
from telephony.api.authentication import WebhookSignatureAuthentication
from telephony.api.serializers import CommandsSerializer, EventSerializer
from telephony.port import PortError

from .answer import answer_event


class TelephonyEventView(APIView):
    """Receive one engine event; answer with the commands to carry out, in order."""

    authentication_classes = [WebhookSignatureAuthentication]
    permission_classes = [IsAccountMember]
    parser_classes = [JSONParser]
    throttle_classes = []  # an engine's event rate is the call center's traffic; the signature guards it

    @extend_schema(request=EventSerializer, responses={200: CommandsSerializer}, operation_id="telephony_event",
                   summary="Deliver an engine event (signed with HMAC-SHA256)")
    def post(self, request: Request) -> Response:
        try:
            return Response(answer_event(request_account(request).pk, request.body))
        except PortError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)


class TelephonyCommandsView(APIView):
    """Commands produced outside any event (timers, supervisors), for engines that poll instead of
    receiving pushes. Each command is handed out once."""

    authentication_classes = [WebhookSignatureAuthentication]
    permission_classes = [IsAccountMember]
    throttle_classes = []

    @extend_schema(request=None, responses={200: CommandsSerializer}, operation_id="telephony_commands",
                   summary="Claim pending commands (signed with HMAC-SHA256)")
    def post(self, request: Request) -> Response:
        commands = outbox.take_pending(request_account(request).pk)
        return Response({"commands": [c.as_dict() for c in commands]})
