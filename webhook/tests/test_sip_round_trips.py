"""Round-trip baselines of Kamailio's requests, counted at the wire (BEGIN and COMMIT included), as
`acd/tests/test_round_trips.py` does for the call path under them.

What the SIP edge adds to the ACD's own figures: an INVITE first finds its number's account (one round trip,
before the ACD's two); the operator's registered phone for a ring is read after the ACD's COMMIT in the same
round trip (nothing more). A batch of reports costs what its reports cost, with nothing per batch. Lower a
ceiling whenever a change removes a round trip.
"""

from __future__ import annotations

import json

import pytest

from agents import actions as presence
from core.roundtrips import Steps
from routing.choices import Criterion
from tests import factories
from webhook import sip

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "edge-token"

CEILINGS = {
    "invite (rings)": 3,  # the number's account 1 + the ACD 2 (the registered phone rides with its COMMIT)
    "failure (rings the next)": 2,  # the ACD 2, the registered phone with them
    "reports: answered and ended in one batch": 4,  # 2 + 2, nothing for the batch
    "reports: the same batch again": 4,  # each report meets its stored event (a redelivery: 2)
}


@pytest.fixture(autouse=True)
def edge(settings):
    settings.SIP_EDGE_TOKEN = TOKEN
    settings.TELEPHONY_BACKEND = "sip"


def ask(kind: str, doc) -> dict:
    status, payload = sip.answer(kind, TOKEN, "", json.dumps(doc).encode())
    assert status == 200, payload
    return payload


def invite(number: str, call_id: str) -> dict:
    return {"type": "invite", "call_id": call_id, "dialed": number, "from_user": "+393331234567",
            "from_uri": "sip:+393331234567@carrier", "display": "Caller"}


def test_sip_requests_stay_within_their_round_trip_ceilings():
    account = factories.make_account()
    first, second = factories.make_operator(account), factories.make_operator(account)
    service = factories.make_service(account, [(first, 9), (second, 1)], wrapup_seconds=0,
                                     criterion=Criterion.SKILL)
    number = factories.make_number(account, service)
    for op in (first, second):
        presence.login_operator(op.pk)
    warm = ask("decide", invite(number.number, "warm@host"))  # counters and caches warm: the steady state
    ask("reports", [{"type": "failed", "call_id": "warm@host", "account": warm["account"], "leg": warm["leg"]}])

    step = Steps()

    ring = step("invite (rings)", lambda: ask("decide", invite(number.number, "c1@host")))
    assert ring["action"] == "ring" and ring["uri"] == first.endpoint
    failure = {"type": "failure", "call_id": "c1@host", "account": ring["account"], "leg": ring["leg"], "code": 408}
    ring = step("failure (rings the next)", lambda: ask("decide", failure))
    assert ring["action"] == "ring" and ring["uri"] == second.endpoint
    batch = [{"type": "answered", "call_id": "c1@host", "account": ring["account"], "leg": ring["leg"]},
             {"type": "ended", "call_id": "c1@host", "account": ring["account"], "leg": ring["leg"], "duration": 2}]
    assert step("reports: answered and ended in one batch", lambda: ask("reports", batch))["taken"] == 2
    step("reports: the same batch again", lambda: ask("reports", batch))

    assert not step.over(CEILINGS), step.over(CEILINGS)


def test_a_ring_to_a_registered_phone_costs_no_round_trip_of_its_own():
    """The contact comes with the ACD's COMMIT: the ring names the phone's contact, not the configured
    endpoint, within the invite's ceiling; after the phone's unregistration the endpoint again."""
    account = factories.make_account()
    op = factories.make_operator(account)
    number = factories.make_number(account, factories.make_service(account, [(op, 5)], wrapup_seconds=0))
    contact = "sip:op@192.0.2.9:5070"
    presence.register_phone(op.pk, contact=contact, expires_seconds=300)
    warm = ask("decide", invite(number.number, "warm@host"))
    assert warm["uri"] == contact
    ask("reports", [{"type": "failed", "call_id": "warm@host", "account": warm["account"], "leg": warm["leg"]}])

    step = Steps()
    ring = step("invite (rings)", lambda: ask("decide", invite(number.number, "c1@host")))
    assert ring["action"] == "ring" and ring["uri"] == contact
    assert not step.over(CEILINGS), step.over(CEILINGS)
    ask("reports", [{"type": "failed", "call_id": "c1@host", "account": ring["account"], "leg": ring["leg"]}])

    presence.unregister_phone(op.pk)
    presence.login_operator(op.pk)
    assert ask("decide", invite(number.number, "c2@host"))["uri"] == op.endpoint
