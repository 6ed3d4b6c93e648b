"""Console sign-in and buttons, wallboard buttons: input checks, scoping, languages."""

import pytest
from django.urls import reverse

from agents.models import Operator
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(client, account, op):
    response = client.post(reverse("console-login"), {"account": account.slug, "login": op.login,
                                                      "password": factories.PASSWORD})
    assert response.status_code == 302 and response.url == reverse("console")


def test_console_sign_in_and_actions(client):
    account = factories.make_account()
    op = factories.make_operator(account)
    reason = factories.make_pause_reason(account, "Lunch")
    assert client.get(reverse("console")).url == reverse("console-login")
    bad = client.post(reverse("console-login"), {"account": account.slug, "login": op.login, "password": "nope"})
    assert "Wrong company code, login or password." in bad.content.decode()
    assert client.post(reverse("console-action"), {"action": "login"}, content_type="application/json"
                       ).status_code == 401
    signed_in(client, account, op)
    assert client.get(reverse("console")).status_code == 200
    act = lambda **body: client.post(reverse("console-action"), body, content_type="application/json")  # noqa: E731
    assert act(action="login").json()["state"] == "available"
    paused = act(action="pause", reason=reason.pk).json()
    assert (paused["state"], paused["pause_reason"]) == ("paused", "Lunch")
    refused = act(action="pause", reason=reason.pk)
    assert refused.status_code == 409 and refused.json()["code"] == "already_paused"
    assert act(action="pause", reason="lunch").json()["field"] == "reason"  # not an id: 400, the field named
    assert act(action="dance").status_code == 400
    assert act(action="resume").json()["state"] == "available"
    assert set(op.events.values_list("via", flat=True)) == {"console"}


def test_wallboard_buttons_are_scoped(client):
    mine, theirs = factories.make_account(), factories.make_account()
    own, other = factories.make_operator(mine), factories.make_operator(theirs)
    for op in (own, other):
        from agents.actions import login_operator

        login_operator(op.pk)
    client.force_login(factories.make_supervisor(mine))
    assert client.get(reverse("wallboard")).status_code == 200
    post = lambda **body: client.post(reverse("wallboard-action"), body, content_type="application/json")  # noqa: E731
    assert post(operator=other.pk, action="pause").status_code == 404
    assert Operator.objects.get(pk=other.pk).state == "available"
    assert post(operator=own.pk, action="pause").json()["pause_source"] == "supervisor"
    assert post(operator=own.pk, action="logoff").json()["state"] == "logged_out"


def test_pages_speak_italian(client):
    page = client.get(reverse("console-login"), HTTP_ACCEPT_LANGUAGE="it").content.decode()
    assert "Codice azienda" in page and "Console operatore" in page


def test_console_asks_for_the_callers_previous_calls_only_for_its_own_offers(client, clock):
    """The card's history is not in the engine's hot path: the console fetches it, scoped to its offers."""
    from acd.tests.switch import Switch, only_ring
    from agents import actions as presence

    account = factories.make_account()
    op, other = factories.make_operator(account), factories.make_operator(account)
    number = factories.make_number(account, factories.make_service(account, [(op, 5)], wrapup_seconds=0))
    presence.login_operator(op.pk)
    switch = Switch(account, clock)
    first, commands = switch.incoming(number.number, "+393401111111")
    switch.answer(first, only_ring(commands))
    clock.advance(30)
    switch.hangup(first)
    clock.advance(60)
    second, _ = switch.incoming(number.number, "+393401111111")
    call_id = switch.call(second).pk
    url = reverse("console-caller-history", args=[call_id])
    assert client.get(url).status_code == 401
    signed_in(client, account, other)
    assert client.get(url).status_code == 404  # never offered to this operator
    client.post(reverse("console-logout"))
    signed_in(client, account, op)
    history = client.get(url).json()["previous_calls"]
    assert [(p["outcome"], p["operator"]) for p in history] == [("answered", op.name)]
    # Shown as the account's local time (10:00 in Rome for 09:00 UTC), localized, the outcome translated.
    assert (history[0]["at_display"], history[0]["outcome_label"]) == ("03/02/2026 10 a.m.", "Answered")
    italian = client.get(url, HTTP_ACCEPT_LANGUAGE="it").json()["previous_calls"][0]
    assert (italian["at_display"], italian["outcome_label"]) == ("02/03/2026 10:00", "Risposta")


def test_a_superuser_picks_the_account_on_the_wallboard(client):
    from agents.actions import login_operator

    demo = factories.make_account(name="Demo floor", is_simulation=True)
    op = factories.make_operator(demo)
    login_operator(op.pk)
    client.force_login(factories.make_superuser())
    page = client.get(reverse("wallboard")).content.decode()
    assert "supervises no account" not in page and 'id="pick-account"' in page and "Demo floor" in page
    board = client.get(reverse("wallboard"), {"account": demo.pk})
    assert board.context["account"] == demo
    post = lambda **body: client.post(reverse("wallboard-action"), body, content_type="application/json")  # noqa: E731
    assert post(account=demo.pk, operator=op.pk, action="logoff").json()["state"] == "logged_out"
    # A supervisor gets their own account whatever they ask for, and no picker.
    mine = factories.make_account()
    client.force_login(factories.make_supervisor(mine))
    assert client.get(reverse("wallboard"), {"account": demo.pk}).context["account"] == mine
    assert 'id="pick-account"' not in client.get(reverse("wallboard")).content.decode()
    assert post(account=demo.pk, operator=op.pk, action="login").status_code == 404
