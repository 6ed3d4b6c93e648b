"""The SIP backend's edge: Kamailio's HTTP questions and reports, turned into port events for the ACD.

Kamailio (telephony/backends/sip/kamailio.cfg) asks `decide/` for every INVITE and every operator leg that
failed, and gets the next step back ("ring this URI for this long", or "refuse with this code"); it sends
`report/` for call progress (answered, ended, the caller gone), queued and retried on its side. Everything
goes through `acd.handle_event`, the one call path, with event ids made of the Call-ID and the event: a
retried report changes nothing twice. Kamailio authenticates with SIP_EDGE_TOKEN in a header.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from acd.actions import handle_event
from agents import actions as presence
from agents.models import Operator, SipRegistration
from core.clock import now
from routing.models import PhoneNumber
from telephony import port
from telephony.backends.sip import translate

log = logging.getLogger(__name__)
TOKEN_HEADER = "X-Centralino-Sip-Token"
MAX_BODY = 16 * 1024
REGISTRATIONS = frozenset({"registered", "unregistered"})
PROMPT_ROUNDS = 4  # a welcome prompt, a second one (operator code…): a proxy reports each finished at once


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def _document(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    token = settings.SIP_EDGE_TOKEN
    if not token or not hmac.compare_digest(request.headers.get(TOKEN_HEADER, ""), token):
        return _error(403, "Refused: the SIP edge token does not match.")
    if len(request.body) > MAX_BODY:
        return _error(413, "The body is too large.")
    try:
        doc = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "The body is not JSON.")
    if not isinstance(doc, dict) or not isinstance(doc.get("call_id"), str) or not doc["call_id"]:
        return _error(400, "A JSON object with a call_id is required.")
    return doc


def _number_account(dialed: str) -> int | None:
    """The account of the dialled number: the request URI's user, with or without its '+'."""
    digits = dialed.strip()
    candidates = [digits] if digits.startswith("+") else [f"+{digits}", digits]
    return (PhoneNumber.objects.filter(number__in=candidates, is_active=True)
            .values_list("account_id", flat=True).first())


def _account_of(doc: dict[str, Any]) -> int | None:
    raw = doc.get("account")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def _decide(event: port.Event, account_id: int) -> translate.Decision:
    """Apply the event, then the prompts the ACD waits for (reported finished at once), until a step for
    the proxy comes out; a caller the ACD would queue is refused (a proxy has no hold music) and the call
    ended, so no channel stays held."""
    source = f"sip:{account_id}"
    for round_ in range(PROMPT_ROUNDS):
        decision = translate.decide(handle_event(event, account_id=account_id, source=source))
        if decision is None or not decision.pending_prompt:
            break
        event = port.PromptFinished(event_id=f"{event.call_ref[:80]}:prompt{round_}", call_ref=event.call_ref,
                                    prompt=decision.pending_prompt[:port.FIELD_MAX_LENGTH["prompt"]])
    if decision is not None and not decision.pending_prompt:
        return _to_registered_phone(decision)
    handle_event(port.Hangup(event_id=f"{event.call_ref[:80]}:hangup", call_ref=event.call_ref,
                             cause="no_media"), account_id=account_id, source=source)
    return translate.refusal(*translate.NO_MEDIA, "QUEUE_NEEDS_MEDIA_SERVER")


def _to_registered_phone(decision: translate.Decision) -> translate.Decision:
    """A ring goes to the operator's registered SIP phone when there is one (its contact as the registrar
    reported it), else to the operator's configured endpoint."""
    if decision.action != "ring":
        return decision
    contact = (SipRegistration.objects.filter(operator__offers__leg_ref=decision.leg, expires_at__gt=now())
               .values_list("contact", flat=True).first())
    return dataclasses.replace(decision, uri=contact) if contact else decision


def _operator_of_realm(user: str, realm: str) -> Operator | None:
    """The active operator with this login in the account whose SIP domain is `realm` (<slug>.SIP_DOMAIN)."""
    suffix = f".{settings.SIP_DOMAIN}"
    if not realm.endswith(suffix) or not user:
        return None
    return (Operator.objects.filter(account__slug=realm[:-len(suffix)], account__is_active=True, login=user[:60],
                                    is_active=True).only("pk", "account_id", "sip_ha1").first())


@csrf_exempt
@require_POST
def credentials(request: HttpRequest) -> JsonResponse:
    """Kamailio's registrar asks for a phone's digest secret: the HA1 of `user` in `realm`, with the operator
    it belongs to; an empty HA1 (unknown login, another account's domain, a password never set since SIP
    phones came) is refused 403 there."""
    doc = _document(request)
    if isinstance(doc, JsonResponse):
        return doc
    op = _operator_of_realm(str(doc.get("user") or ""), str(doc.get("realm") or ""))
    if op is None or not op.sip_ha1:
        return JsonResponse({"ha1": ""})
    return JsonResponse({"ha1": op.sip_ha1, "account": str(op.account_id), "operator": str(op.pk)})


def _registration(doc: dict[str, Any], account_id: int) -> bool:
    """A phone's registration (`registered`, with its contact and expiry) or unregistration, reported by
    the registrar after it checked the digest: through the presence actions."""
    raw = doc.get("operator")
    operator_id = int(raw) if isinstance(raw, str) and raw.isdigit() else None
    if operator_id is None or not Operator.objects.filter(pk=operator_id, account_id=account_id).exists():
        return False
    if doc.get("type") == "unregistered":
        presence.unregister_phone(operator_id)
        return True
    expires, at = doc.get("expires"), doc.get("now")
    if not isinstance(expires, int) or not isinstance(at, int) or expires - at <= 0:
        return False
    presence.register_phone(operator_id, contact=str(doc.get("contact") or "")[:255],
                            expires_seconds=min(expires - at, 24 * 3600))
    return True


@csrf_exempt
@require_POST
def decide(request: HttpRequest) -> JsonResponse:
    """An INVITE (`type: invite`) or a failed operator leg (`type: failure`, with its SIP code): the next step."""
    doc = _document(request)
    if isinstance(doc, JsonResponse):
        return doc
    if doc.get("type") == "invite":
        account_id = _number_account(translate.invite_event(doc).dialed)
        if account_id is None:
            return JsonResponse(translate.refusal(*translate.NOT_FOUND, "UNALLOCATED").as_dict(""))
        event: port.Event = translate.invite_event(doc)
    elif doc.get("type") == "failure":
        account_id = _account_of(doc)
        if account_id is None:
            return _error(400, "A failure names its account.")
        event = translate.failure_event(doc)
    else:
        return _error(400, "type must be invite or failure.")
    return JsonResponse(_decide(event, account_id).as_dict(str(account_id)))


@csrf_exempt
@require_POST
def report(request: HttpRequest) -> JsonResponse:
    """Call progress from Kamailio's report queue. Always answered 200 once understood (a report about a call
    the back office no longer knows changes nothing), so Kamailio retries only what did not arrive."""
    doc = _document(request)
    if isinstance(doc, JsonResponse):
        return doc
    account_id = _account_of(doc)
    if account_id is not None and doc.get("type") in REGISTRATIONS:
        return JsonResponse({"taken": _registration(doc, account_id)})
    event = translate.report_event(doc)
    if account_id is None or event is None:
        return JsonResponse({"taken": False})
    handle_event(event, account_id=account_id, source=f"sip:{account_id}")
    return JsonResponse({"taken": True})
