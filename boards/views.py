"""The operator console and the supervisor wallboard: pages, sign-in, and the buttons (which call actions)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.scoping import user_account
from acd.models import Call
from acd.screen import caller_history
from agents import actions
from agents.choices import PauseSource, Via
from agents.models import Operator
from core.errors import ActionError

from .forms import OperatorLoginForm
from .session import sign_in, signed_in_operator

MAX_ID = 2**63 - 1


def console_login(request: HttpRequest) -> HttpResponse:
    form = OperatorLoginForm(request.POST or None, request=request)
    if request.method == "POST":
        if form.is_valid():
            sign_in(request.session, form.cleaned_data["operator"])
            return redirect("console")
        status = 429 if form.locked else 200
        return render(request, "boards/console_login.html", {"form": form}, status=status)
    return render(request, "boards/console_login.html", {"form": form})


@require_POST
def console_logout(request: HttpRequest) -> HttpResponse:
    """Sign out: a POST with the CSRF token (a GET, e.g. an <img> on another site, must not sign anyone out)."""
    request.session.flush()
    return redirect("console-login")


def console(request: HttpRequest) -> HttpResponse:
    operator = signed_in_operator(request.session)
    if operator is None:
        return redirect("console-login")
    return render(request, "boards/console.html", {"operator": operator})


class BadRequest(Exception):
    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail, self.field = detail, field

    def response(self) -> JsonResponse:
        body = {"detail": self.detail, **({"field": self.field} if self.field else {})}
        return JsonResponse(body, status=400)


def _body(request: HttpRequest) -> dict[str, Any]:
    """The JSON object a button posts; anything else is a 400 (the depth is capped by core.limits)."""
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest("The body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    return body


def _optional_id(body: dict[str, Any], field: str) -> int | None:
    value = body.get(field)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadRequest(f"{field} must be an id.", field)
    try:
        number = int(value)
    except ValueError as exc:
        raise BadRequest(f"{field} must be an id.", field) from exc
    if not 0 < number <= MAX_ID:
        raise BadRequest(f"{field} must be an id.", field)
    return number


@require_POST
def console_action(request: HttpRequest) -> JsonResponse:
    operator = signed_in_operator(request.session)
    if operator is None:
        return JsonResponse({"detail": "Sign in first."}, status=401)
    operator_id = operator.pk
    try:
        body = _body(request)
        name = body.get("action")
        if name == "login":
            op = actions.login_operator(operator_id, via=Via.CONSOLE)
        elif name == "pause":
            op = actions.pause_operator(operator_id, reason_id=_optional_id(body, "reason"),
                                        source=PauseSource.OPERATOR, via=Via.CONSOLE)
        elif name == "resume":
            op = actions.resume_operator(operator_id, via=Via.CONSOLE)
        elif name == "logoff":
            op = actions.logoff_operator(operator_id, via=Via.CONSOLE)
        else:
            return JsonResponse({"detail": "Unknown action.", "field": "action"}, status=400)
    except BadRequest as exc:
        return exc.response()
    except ActionError as exc:
        return JsonResponse({"code": exc.code, "detail": exc.message}, status=exc.http_status)
    return JsonResponse(actions.operator_snapshot(op))


def console_caller_history(request: HttpRequest, call_id: int) -> JsonResponse:
    """The caller's previous calls for the card the console shows: only for a call offered to this operator."""
    operator = signed_in_operator(request.session)
    if operator is None:
        return JsonResponse({"detail": "Sign in first."}, status=401)
    call = Call.objects.filter(pk=call_id, offers__operator_id=operator.pk).first()
    if call is None:
        return JsonResponse({"detail": "No such call was offered to you."}, status=404)
    return JsonResponse({"previous_calls": caller_history(call)})


@staff_member_required
def wallboard(request: HttpRequest) -> HttpResponse:
    account = user_account(request.user)
    return render(request, "boards/wallboard.html", {"account": account})


@require_POST
@staff_member_required
def wallboard_action(request: HttpRequest) -> JsonResponse:
    """A supervisor pauses or logs off an operator of their own account."""
    account = user_account(request.user)
    try:
        body = _body(request)
        operator_id = _optional_id(body, "operator")
    except BadRequest as exc:
        return exc.response()
    op = Operator.objects.filter(pk=operator_id, account=account).first() if account and operator_id else None
    if op is None:
        return JsonResponse({"detail": "No such operator.", "field": "operator"}, status=404)
    try:
        if body.get("action") == "pause":
            result = actions.pause_operator(op.pk, source=PauseSource.SUPERVISOR, via=Via.CONSOLE)
        elif body.get("action") == "logoff":
            result = actions.logoff_operator(op.pk, via=Via.CONSOLE)
        else:
            return JsonResponse({"detail": "Unknown action.", "field": "action"}, status=400)
    except ActionError as exc:
        return JsonResponse({"code": exc.code, "detail": exc.message}, status=exc.http_status)
    return JsonResponse(actions.operator_snapshot(result))
