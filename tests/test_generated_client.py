"""Issue 13: the API as an integrator meets it. A Python client is generated with `openapi-python-client` from
the schema a live web process serves, every one of its modules is imported, and the main flows run through it
against that process: create a service, an operator and a number; log the operator in, pause and resume;
originate; read the call (its legs and billed seconds), the calls list, usage, statistics and the plan; a voice
menu on a second number, and a call through it (the digit collected, the caller queued for the service, the
caller's path read back).

The generator runs offline (no post hooks: it would otherwise call ruff through the shell). The generated
package gets a unique name so it cannot shadow anything installed.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import ModuleType

import pytest

from telephony.signing import signed_headers
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.multiprocess]

PACKAGE = "centralino_generated_client"


def generate_client(base_url: str, into: Path) -> list[ModuleType]:
    """Generate the client from the live `/api/schema/` into `into` and import every module of it."""
    with urllib.request.urlopen(f"{base_url}/api/schema/?format=json", timeout=30) as response:
        (into / "schema.json").write_bytes(response.read())
    (into / "config.yaml").write_text(f"post_hooks: []\npackage_name_override: {PACKAGE}\n")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("openapi-python-client")), "generate", "--path",
         str(into / "schema.json"), "--config", str(into / "config.yaml"), "--meta", "none",
         "--output-path", str(into / PACKAGE)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    # The generator reports schema shapes it could not turn into code as warnings on its output.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(into))
    package = importlib.import_module(PACKAGE)
    modules = [importlib.import_module(info.name)
               for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}.")]
    return modules


@pytest.fixture
def client_package(web_server, tmp_path):
    modules = generate_client(web_server, tmp_path)
    yield modules
    sys.path.remove(str(tmp_path))
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def api(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.api.v1.{name}")


def model(name: str):
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


def ok(response, status: int = 200):
    """The parsed body of an answer that must have this status (its raw body in the failure message)."""
    assert response.status_code == status, response.content[:2000]
    assert response.parsed is not None
    return response.parsed


def test_generated_client_drives_the_main_flows(web_server, client_package):
    server = web_server
    account = factories.make_account()
    token = factories.make_token(account)
    assert len(client_package) > 80  # every operation's module, every model's: all imported
    client = importlib.import_module(PACKAGE).AuthenticatedClient(base_url=server, token=token, timeout=30.0)

    # A service, an operator on it, a number pointing at it.
    operator = ok(api("v1_operators_create").sync_detailed(client=client, body=model("OperatorRequest")(
        name="Giulia Neri", login="giulia", password="a-long-enough-pass", code=501,
        endpoint_kind=model("EndpointKindEnum")("sip"), endpoint="sip:giulia@pbx.example.com")), 201)
    assert operator.is_active is True  # a JSON body: an omitted boolean takes the model's default
    service = ok(api("v1_services_create").sync_detailed(client=client, body=model("ServiceRequest")(
        name="Sales", memberships=[model("MembershipRequest")(operator=operator.id, skill_level=5)])), 201)
    number = ok(api("v1_numbers_create").sync_detailed(client=client, body=model("PhoneNumberRequest")(
        number="+390211112222", service=service.id)), 201)
    assert number.service == service.id

    # The operators list parses: never paused means a blank pause source and no reason.
    listed = ok(api("v1_operators_list").sync_detailed(client=client))
    assert [o.id for o in listed.results] == [operator.id]
    assert listed.results[0].pause_reason_name is None

    # Presence: log in, pause with a reason, resume.
    reason = ok(api("v1_pause_reasons_create").sync_detailed(client=client, body=model("PauseReasonRequest")(
        name="Break")), 201)
    ok(api("v1_operators_login_create").sync_detailed(operator.id, client=client))
    paused = ok(api("v1_operators_pause_create").sync_detailed(operator.id, client=client, body=model(
        "PauseRequestRequest")(reason=reason.id)))
    assert paused.state.value == "paused"
    detail = ok(api("v1_operators_retrieve").sync_detailed(operator.id, client=client))
    assert detail.pause_reason_name == "Break" and detail.pause_source.value == "operator"
    resumed = ok(api("v1_operators_resume_create").sync_detailed(operator.id, client=client))
    assert resumed.state.value == "available"

    # An error answer parses into the one error shape.
    missing = api("v1_operators_retrieve").sync_detailed(999_999, client=client)
    assert missing.status_code == 404 and missing.parsed.detail

    # Originate, then read the call and its legs.
    call = ok(api("v1_calls_originate_create").sync_detailed(client=client, body=model("OriginateRequest")(
        destination="+390612345678"), idempotency_key="crm-1"), 201)
    again = ok(api("v1_calls_originate_create").sync_detailed(client=client, body=model("OriginateRequest")(
        destination="+390612345678"), idempotency_key="crm-1"), 201)
    assert again.id == call.id
    detail = ok(api("v1_calls_retrieve").sync_detailed(call.id, client=client))
    assert detail.direction.value == "outbound" and detail.billed_seconds == 0
    assert detail.legs == []  # no operator rung yet: the caller's leg is the call itself
    calls = ok(api("v1_calls_list").sync_detailed(client=client))
    assert [c.id for c in calls.results] == [call.id]

    # Usage, statistics, capacity and the plan, each typed.
    used = ok(api("v1_usage_retrieve").sync_detailed(client=client))
    assert used.minutes.billed_seconds == 0 and used.limit == account.channel_limit and used.samples
    stats = ok(api("v1_stats_retrieve").sync_detailed(client=client))
    assert [s.service_id for s in stats.services] == [service.id]
    assert [o.operator_id for o in stats.operators] == [operator.id]
    capacity = ok(api("v1_capacity_retrieve").sync_detailed(client=client))
    assert capacity.channel_limit == account.channel_limit
    plan = ok(api("v1_account_plan_retrieve").sync_detailed(client=client))
    assert plan.channel_limit == account.channel_limit and plan.channels_in_use >= 1

    # A voice menu answers a second number: "press 1 for Sales".
    menu_number = ok(api("v1_numbers_create").sync_detailed(client=client, body=model("PhoneNumberRequest")(
        number="+390233334444")), 201)
    menu = ok(api("v1_menus_create").sync_detailed(client=client, body=model("MenuRequest")(
        name="Main", numbers=[menu_number.id], options=[model("MenuOptionRequest")(
            digit=model("DigitEnum")("1"), label="Sales", action=model("ActionEnum")("service"),
            service=service.id)])), 201)
    assert menu.numbers == [menu_number.id] and [o.digit.value for o in menu.options] == ["1"]
    listed_menus = ok(api("v1_menus_list").sync_detailed(client=client))
    assert [m.id for m in listed_menus.results] == [menu.id]

    # The engine's side, through the same client: a signed incoming call rings the operator, the answer bridges,
    # the hangup ends it; the call then shows its operator leg and billed seconds.
    engine = importlib.import_module(PACKAGE).Client(base_url=server, timeout=30.0, httpx_args={
        "event_hooks": {"request": [signer(account)]}})

    def event(kind: str, **fields):
        body = model(f"{kind}EventRequest")(type_=model(f"{kind}EventRequestType")(snake(kind)), **fields)
        return ok(api("telephony_event").sync_detailed(client=engine, body=body)).commands

    commands = event("IncomingCall", event_id="e1", call_ref="in-1", dialed=number.number, caller="+393331112222")
    ring = next(c for c in commands if c.type_.value == "ring")
    assert ring.endpoint == "sip:giulia@pbx.example.com"
    commands = event("LegAnswered", event_id="e2", call_ref="in-1", leg_ref=ring.leg_ref)
    assert [c.type_.value for c in commands][-1] == "bridge"
    time.sleep(1.1)  # a second of talk: billed as the plan's first period
    event("Hangup", event_id="e3", call_ref="in-1")
    inbound = next(c for c in ok(api("v1_calls_list").sync_detailed(client=client, direction=model(
        "V1CallsListDirection")("inbound"))).results)
    assert [(leg.leg_ref, leg.state.value, leg.operator) for leg in inbound.legs] == [
        (ring.leg_ref, "answered", operator.id)]
    assert inbound.billed_seconds == account.plan.billing_first_seconds and inbound.talk_seconds > 1

    # Through the menu: the engine collects a digit, the caller presses 1 and waits for Sales, then hangs up.
    commands = event("IncomingCall", event_id="m1", call_ref="menu-1", dialed=menu_number.number,
                     caller="+393334445555")
    assert "collect_digits" in [c.type_.value for c in commands]
    commands = event("Digits", event_id="m2", call_ref="menu-1", digits="1")
    assert [c.type_.value for c in commands] == ["start_hold"]  # Sales' one operator is in wrap-up: hold
    event("Hangup", event_id="m3", call_ref="menu-1")
    through_menu = next(c for c in ok(api("v1_calls_list").sync_detailed(client=client, direction=model(
        "V1CallsListDirection")("inbound"))).results if c.dialed == menu_number.number)
    assert [(step.menu, step.digit, step.label) for step in through_menu.menu_path] == [(menu.id, "1", "Sales")]


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def signer(account):
    """An httpx request hook that signs each engine request with the account's webhook secret."""
    def sign_request(request) -> None:
        body = request.read()
        request.headers.update(signed_headers(account.slug, account.webhook_secret, body, time.time()))
    return sign_request
