"""Issue 11, finding 9: signed but malformed engine events answer 400 naming the problem, never 500; an
unknown account slug is answered exactly like a bad signature."""

import json

import pytest

from acd.models import Call
from tests import factories
from tests.api import post_signed

pytestmark = pytest.mark.django_db(transaction=True)



@pytest.fixture
def floor():
    account, _op, number = factories.make_floor()
    return account, number


def event(number, **overrides):
    return {"type": "incoming_call", "event_id": "e1", "call_ref": "c1", "dialed": number.number,
            "caller": "+393331234567", **overrides}


@pytest.mark.parametrize(("overrides", "message"), [
    ({"type": ["incoming_call"]}, "unknown event type"),
    ({"type": {"a": 1}}, "unknown event type"),
    ({"event_id": "e" * 101}, "event_id is longer than 100"),
    ({"call_ref": "c" * 101}, "call_ref is longer than 100"),
    ({"caller": "sip:" + "x" * 300 + "@example.com"}, "caller is longer than 255"),
    ({"dialed": "+39" + "1" * 60}, "dialed is longer than 40"),
    ({"caller": ["+39333"]}, "caller must be a string"),
    ({"caller": 393331234567}, "caller must be a string"),
])
def test_malformed_field_is_400_naming_it(floor, overrides, message):
    account, number = floor
    response = post_signed(account.slug, account.webhook_secret, json.dumps(event(number, **overrides)).encode())
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert not Call.objects.exists()


def test_wrong_types_in_other_events_are_400(floor):
    account, _ = floor
    for doc, message in [({"type": "voicemail_recorded", "event_id": "v", "call_ref": "c", "seconds": "ten"},
                          "seconds must be a number"),
                         ({"type": "voicemail_recorded", "event_id": "v", "call_ref": "c", "seconds": True},
                          "seconds must be a number"),
                         ({"type": "digits", "event_id": "d", "call_ref": "c", "digits": {"x": 1}},
                          "digits must be a string"),
                         ({"type": "hangup", "event_id": "h", "call_ref": "c", "leg_ref": "l" * 41},
                          "leg_ref is longer than 40")]:
        response = post_signed(account.slug, account.webhook_secret, json.dumps(doc).encode())
        assert response.status_code == 400, (doc, response.content)
        assert message in response.json()["detail"]


def test_a_real_sip_uri_caller_is_accepted_and_stored_whole(floor):
    account, number = floor
    caller = "sip:+393331234567;cpc=ordinary@carrier-gateway-07.milano.example-telecom.it;user=phone"
    assert len(caller) > 40
    response = post_signed(account.slug, account.webhook_secret, json.dumps(event(number, caller=caller)).encode())
    assert response.status_code == 200, response.content
    assert Call.objects.get().caller == caller


def test_deep_nesting_is_400_not_a_recursion_error(floor):
    account, _ = floor
    body = b'{"type": "hangup", "event_id": "x", "call_ref": "y", "cause": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = post_signed(account.slug, account.webhook_secret, body)
    assert response.status_code == 400, response.content[:300]
    assert "nested deeper than" in response.json()["detail"]


def test_body_that_is_not_utf8_is_400(floor):
    account, _ = floor
    response = post_signed(account.slug, account.webhook_secret, b'{"type": "hangup\xff\xfe"}')
    assert response.status_code == 400, response.content


def test_unknown_slug_is_answered_like_a_bad_signature(floor):
    account, number = floor
    body = json.dumps(event(number)).encode()
    unknown = post_signed("no-such-account", account.webhook_secret, body)
    bad_signature = post_signed(account.slug, "not-the-secret", body)
    assert unknown.status_code == bad_signature.status_code in (401, 403)
    assert unknown.json() == bad_signature.json()
    assert not Call.objects.exists()
