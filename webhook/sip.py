"""The SIP backend's edge: Kamailio's HTTP questions and reports, turned into port events for the ACD.

Kamailio (telephony/backends/sip/kamailio.cfg) asks `decide/` for every INVITE and every operator leg that
failed, and gets the next step back ("ring this URI for this long", or "refuse with this code"); it sends
`reports/` for call progress (answered, ended, the caller gone) and phone registrations, queued on its side
and sent in batches by its timer processes, in order, retried whole while the back office does not take them.
Everything goes through `acd.handle_event`, the one call path, with event ids made of the Call-ID and the
event: a retried report changes nothing twice. Kamailio authenticates with SIP_EDGE_TOKEN, in a header or as
the password of HTTP basic authentication (what its kept-alive `httpcon` connections can send).

`answer(kind, …)` is the whole work; both doors call it: the Django views below (the test client, a deployment
that mounts Django alone) and the lean ASGI edge the production web process serves (webhook/sip_edge.py).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hmac
import json
import logging
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from acd.actions import handle_event
from acd.choices import CallState, OfferState
from acd.models import Call
from agents import actions as presence
from agents.models import Operator, SipRegistration
from core.clock import now
from core.errors import ActionError
from core.pipeline import read_after_commit
from routing.models import PhoneNumber
from telephony import outbox, port
from telephony.backends.sip import translate
from telephony.models import OutboundCommand

log = logging.getLogger(__name__)
TOKEN_HEADER = "X-Centralino-Sip-Token"
MAX_BODY = 64 * 1024  # a batch of reports (Kamailio sends at most CC_BATCH of ~300 bytes each)
MAX_BATCH = 200
REGISTRATIONS = frozenset({"registered", "unregistered"})
PROMPT_ROUNDS = 4  # a welcome prompt, a second one (operator code…): a proxy reports each finished at once
Answer = tuple[int, dict[str, Any]]


def authorised(token_header: str, authorization: str) -> bool:
    """The edge token in its header, or as the basic-authentication password (any user name)."""
    token = settings.SIP_EDGE_TOKEN
    if not token:
        return False
    offered = token_header
    scheme, _, encoded = authorization.partition(" ")
    if not offered and scheme.lower() == "basic":
        try:
            offered = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            offered = ""
    return hmac.compare_digest(offered.encode(), token.encode())


def _error(status: int, detail: str) -> Answer:
    return status, {"detail": detail}


def _number_account(dialed: str) -> int | None:
    """The account of the dialled number: the request URI's user, with or without its '+'."""
    digits = dialed.strip()
    candidates = [digits] if digits.startswith("+") else [f"+{digits}", digits]
    return (PhoneNumber.objects.filter(number__in=candidates, is_active=True)
            .values_list("account_id", flat=True).first())


def _account_of(doc: dict[str, Any]) -> int | None:
    raw = doc.get("account")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


# The registered phones of the operators a call is ringing, read right after the ACD's COMMIT in the same
# round trip (`core.pipeline.read_after_commit`): a ring costs no lookup of its own.
_RINGING_CONTACTS_SQL = """
SELECT o.leg_ref, r.contact
  FROM acd_call c
  JOIN acd_offer o ON o.call_id = c.id
  JOIN agents_sipregistration r ON r.operator_id = o.operator_id
 WHERE c.account_id = %(account)s AND c.engine_ref = %(ref)s AND o.state = %(ringing)s AND r.expires_at > %(at)s"""


def _decide(event: port.Event, account_id: int) -> translate.Decision:
    """Apply the event, then the prompts the ACD waits for (reported finished at once), until a step for
    the proxy comes out (a ring, a refusal, or "keep the caller waiting": the ACD queued the call); a step a
    proxy cannot take (a voicemail, a menu: they need a media server, README) refuses the call and ends it,
    so no channel stays held."""
    source = f"sip:{account_id}"
    params = {"account": account_id, "ref": event.call_ref, "ringing": OfferState.RINGING, "at": now()}
    with read_after_commit(_RINGING_CONTACTS_SQL, params) as contacts:
        for round_ in range(PROMPT_ROUNDS):
            contacts.fresh = False  # only the commit of the event that gives the step counts
            decision = translate.decide(handle_event(event, account_id=account_id, source=source))
            if decision is None or not decision.pending_prompt:
                break
            event = port.PromptFinished(event_id=f"{event.call_ref[:80]}:prompt{round_}", call_ref=event.call_ref,
                                        prompt=decision.pending_prompt[:port.FIELD_MAX_LENGTH["prompt"]])
    if decision is not None and not decision.pending_prompt:
        if contacts.fresh:
            return _ring_contact(decision, dict(contacts.rows).get(decision.leg))
        return _to_registered_phone(decision)
    handle_event(port.Hangup(event_id=f"{event.call_ref[:80]}:hangup", call_ref=event.call_ref,
                             cause="no_media"), account_id=account_id, source=source)
    return translate.refusal(*translate.NO_MEDIA, "QUEUE_NEEDS_MEDIA_SERVER")


def _waiting(ref: str, account_id: int) -> translate.Decision:
    """A queued caller's INVITE asks again: the ring the ACD sent for it meanwhile (an operator freed: kept
    in the outbox for this question), the end it came to (the queue's timeout or overflow), or wait on."""
    decision = translate.decide(outbox.take_pending(account_id, call_ref=ref))
    if decision is not None and decision.action != "queue":
        return _to_registered_phone(decision)
    state, cause = (Call.objects.filter(account_id=account_id, engine_ref=ref).values_list("state", "end_cause")
                    .first() or (None, ""))
    if state is None or state == CallState.ENDED:
        code, reason = translate.REFUSALS.get(cause, translate.NO_MEDIA)
        return translate.refusal(code, reason, (cause or "ENDED").upper())
    return translate.queued()


def _ring_contact(decision: translate.Decision, contact: str | None) -> translate.Decision:
    """A ring goes to the operator's registered SIP phone when there is one (its contact as the registrar
    reported it), else to the operator's configured endpoint."""
    if decision.action != "ring" or not contact:
        return decision
    return dataclasses.replace(decision, uri=contact)


def _to_registered_phone(decision: translate.Decision) -> translate.Decision:
    """`_ring_contact` with the contact looked up: one query per ring, for a ring that did not come with the
    ACD's commit (a queued caller's, taken from the outbox; webhook/tests/test_sip_round_trips.py counts it)."""
    if decision.action != "ring":
        return decision
    contact = (SipRegistration.objects.filter(operator__offers__leg_ref=decision.leg, expires_at__gt=now())
               .values_list("contact", flat=True).first())
    return _ring_contact(decision, contact)


def _operator_of_realm(user: str, realm: str) -> Operator | None:
    """The active operator with this login in the account whose SIP domain is `realm` (<slug>.SIP_DOMAIN)."""
    suffix = f".{settings.SIP_DOMAIN}"
    if not realm.endswith(suffix) or not user:
        return None
    return (Operator.objects.filter(account__slug=realm[:-len(suffix)], account__is_active=True, login=user[:60],
                                    is_active=True).only("pk", "account_id", "sip_ha1").first())


def answer_credentials(doc: dict[str, Any]) -> Answer:
    """Kamailio's registrar asks for a phone's digest secret: the HA1 of `user` in `realm`, with the operator
    it belongs to; an empty HA1 (unknown login, another account's domain, a password never set since SIP
    phones came) is refused 403 there."""
    op = _operator_of_realm(str(doc.get("user") or ""), str(doc.get("realm") or ""))
    if op is None or not op.sip_ha1:
        return 200, {"ha1": ""}
    return 200, {"ha1": op.sip_ha1, "account": str(op.account_id), "operator": str(op.pk)}


def registrar_time(raw: Any) -> dt.datetime | None:
    """The registrar's clock as Kamailio writes it ($TV(Sn): "seconds.microseconds"), or None."""
    try:
        seconds = Decimal(str(raw)) if isinstance(raw, str) and raw else None
    except InvalidOperation:
        return None
    if seconds is None or not seconds.is_finite() or seconds <= 0:
        return None
    return dt.datetime.fromtimestamp(float(seconds), tz=dt.UTC)


def _registration(doc: dict[str, Any], account_id: int) -> bool:
    """A phone's registration (`registered`, with its contact and expiry) or unregistration, reported by
    the registrar after it checked the digest: through the presence actions, ordered by the registrar's
    clock (`at`), so a report read before the last one applied changes nothing."""
    raw = doc.get("operator")
    operator_id = int(raw) if isinstance(raw, str) and raw.isdigit() else None
    if operator_id is None or not Operator.objects.filter(pk=operator_id, account_id=account_id).exists():
        return False
    as_of = registrar_time(doc.get("at"))
    if doc.get("type") == "unregistered":
        return presence.unregister_phone(operator_id, as_of=as_of) is not None
    expires, at = doc.get("expires"), doc.get("now")
    if not isinstance(expires, int) or not isinstance(at, int) or expires - at <= 0:
        return False
    return presence.register_phone(operator_id, contact=str(doc.get("contact") or "")[:255],
                                   expires_seconds=min(expires - at, 24 * 3600), as_of=as_of) is not None


def answer_decide(doc: dict[str, Any]) -> Answer:
    """An INVITE (`type: invite`) or a failed operator leg (`type: failure`, with its SIP code): the next step."""
    if doc.get("type") == "invite":
        event: port.Event = translate.invite_event(doc)
        account_id = _number_account(event.dialed)
        if account_id is None:
            return 200, translate.refusal(*translate.NOT_FOUND, "UNALLOCATED").as_dict("")
    elif doc.get("type") == "failure":
        account_id = _account_of(doc)
        if account_id is None:
            return _error(400, "A failure names its account.")
        event = translate.failure_event(doc)
    elif doc.get("type") == "waiting":
        account_id = _account_of(doc)
        if account_id is None:
            return _error(400, "A waiting caller names its account.")
        return 200, _waiting(translate.call_ref(doc["call_id"]), account_id).as_dict(str(account_id))
    else:
        return _error(400, "type must be invite, failure or waiting.")
    return 200, _decide(event, account_id).as_dict(str(account_id))


def _not_kept_yet(account_id: int, rings: list[port.Ring]) -> list[port.Ring]:
    """The rings not in the outbox already (a redelivered report's answer is its first delivery's)."""
    kept = set(OutboundCommand.objects.filter(account_id=account_id, call_ref__in=[r.call_ref for r in rings],
                                              payload__type=port.Ring.type)
               .values_list("payload__leg_ref", flat=True))
    return [r for r in rings if r.leg_ref not in kept]


def _report_one(doc: dict[str, Any]) -> bool:
    account_id = _account_of(doc)
    if account_id is not None and doc.get("type") in REGISTRATIONS:
        return _registration(doc, account_id)
    event = translate.report_event(doc)
    if account_id is None or event is None:
        return False
    commands = handle_event(event, account_id=account_id, source=f"sip:{account_id}")
    # an operator freed by this report rings a waiting caller: that caller's INVITE takes the ring when it
    # next asks (_waiting). A redelivered report answers the same commands: kept once, by leg.
    rings = [c for c in commands if isinstance(c, port.Ring) and c.call_ref != event.call_ref]
    if rings:
        outbox.record(account_id, _not_kept_yet(account_id, rings), notify=False)
    return True


def answer_report(doc: dict[str, Any]) -> Answer:
    """One progress report. Always answered 200 once understood (a report about a call the back office no
    longer knows changes nothing), so Kamailio retries only what did not arrive."""
    return 200, {"taken": _report_one(doc)}


def answer_reports(docs: list[Any]) -> Answer:
    """A batch of reports from one of Kamailio's report queues, applied in the order sent (a call's answer
    before its end, a phone's registrations in the registrar's order). A database error answers 503 and
    Kamailio sends the whole batch again (each report is idempotent); a report that cannot be applied for
    any other reason is logged and skipped, so it never blocks the queue behind it."""
    if len(docs) > MAX_BATCH:
        return _error(413, f"At most {MAX_BATCH} reports a batch.")
    taken = 0
    for doc in docs:
        if not isinstance(doc, dict) or not isinstance(doc.get("call_id"), str) or not doc["call_id"]:
            continue
        try:
            taken += _report_one(doc)
        except DatabaseError:
            raise
        except (ActionError, ValueError, TypeError):
            log.exception("sip report skipped: %s", doc)
    return 200, {"taken": taken, "of": len(docs)}


ANSWERS: dict[str, Callable[[dict[str, Any]], Answer]] = {
    "decide": answer_decide, "report": answer_report, "credentials": answer_credentials}


def answer(kind: str, token_header: str, authorization: str, body: bytes) -> Answer:
    """Kamailio's request `kind` (decide, report, reports, credentials): authenticated, parsed, answered."""
    if not authorised(token_header, authorization):
        return _error(403, "Refused: the SIP edge token does not match.")
    if len(body) > MAX_BODY:
        return _error(413, "The body is too large.")
    try:
        doc = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "The body is not JSON.")
    if kind == "reports":
        return answer_reports(doc) if isinstance(doc, list) else _error(400, "A JSON array of reports is required.")
    if not isinstance(doc, dict) or not isinstance(doc.get("call_id"), str) or not doc["call_id"]:
        return _error(400, "A JSON object with a call_id is required.")
    return ANSWERS[kind](doc)


def _view(kind: str) -> Callable[[HttpRequest], JsonResponse]:
    @csrf_exempt
    @require_POST
    def view(request: HttpRequest) -> JsonResponse:
        status, payload = answer(kind, request.headers.get(TOKEN_HEADER, ""),
                                 request.headers.get("Authorization", ""), request.body)
        return JsonResponse(payload, status=status)
    view.__doc__ = f"Kamailio's `{kind}/` request through Django (the lean door: webhook/sip_edge.py)."
    view.__name__ = kind
    return view


decide = _view("decide")
report = _view("report")
reports = _view("reports")
credentials = _view("credentials")
