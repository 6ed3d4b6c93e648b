"""The operator console and the supervisor wallboard: pages, sign-in, and the buttons (which call actions)."""

from __future__ import annotations

import json

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

SESSION_KEY = "operator_id"


def console_login(request: HttpRequest) -> HttpResponse:
    form = OperatorLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        request.session.cycle_key()
        request.session[SESSION_KEY] = form.cleaned_data["operator"].pk
        return redirect("console")
    return render(request, "boards/console_login.html", {"form": form})


def console_logout(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    return redirect("console-login")


def console(request: HttpRequest) -> HttpResponse:
    operator_id = request.session.get(SESSION_KEY)
    if not operator_id:
        return redirect("console-login")
    operator = Operator.objects.select_related("account").get(pk=operator_id)
    return render(request, "boards/console.html", {"operator": operator})


def _body(request: HttpRequest) -> dict:
    try:
        return json.loads(request.body or b"{}")
    except json.JSONDecodeError:
        return {}


@require_POST
def console_action(request: HttpRequest) -> JsonResponse:
    operator_id = request.session.get(SESSION_KEY)
    if not operator_id:
        return JsonResponse({"detail": "Sign in first."}, status=401)
    body = _body(request)
    name = body.get("action")
    try:
        if name == "login":
            op = actions.login_operator(operator_id, via=Via.CONSOLE)
        elif name == "pause":
            reason = body.get("reason")
            op = actions.pause_operator(operator_id, reason_id=int(reason) if reason else None,
                                        source=PauseSource.OPERATOR, via=Via.CONSOLE)
        elif name == "resume":
            op = actions.resume_operator(operator_id, via=Via.CONSOLE)
        elif name == "logoff":
            op = actions.logoff_operator(operator_id, via=Via.CONSOLE)
        else:
            return JsonResponse({"detail": "Unknown action.", "field": "action"}, status=400)
    except ActionError as exc:
        return JsonResponse({"code": exc.code, "detail": exc.message}, status=exc.http_status)
    return JsonResponse(actions.operator_snapshot(op))


def console_caller_history(request: HttpRequest, call_id: int) -> JsonResponse:
    """The caller's previous calls for the card the console shows: only for a call offered to this operator."""
    operator_id = request.session.get(SESSION_KEY)
    if not operator_id:
        return JsonResponse({"detail": "Sign in first."}, status=401)
    call = Call.objects.filter(pk=call_id, offers__operator_id=operator_id).first()
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
    body = _body(request)
    op = Operator.objects.filter(pk=body.get("operator"), account=account).first() if account else None
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
