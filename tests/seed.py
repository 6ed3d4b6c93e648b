"""One account with an object of every kind the API serves, for the tests that walk every resource."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actions import create_api_token, create_supervisor
from acd.models import Call
from acd.tests.switch import Switch, only_ring
from agents import actions as presence
from billing.invoices import issue_invoice
from budget.models import LimitRefusal
from core.audio import tone_wav
from core.clock import ManualClock, now
from core.outgoing import EventType
from dialer.choices import AttemptOutcome, DispositionKind
from dialer.models import Attempt, Campaign, Disposition, Lead, LeadList
from integrations.models import Delivery, Subscription
from ivr.models import Menu, MenuOption
from routing.choices import PromptKind
from routing.models import CallerRoute, Prompt
from tests import factories


def seed_account(clock: ManualClock, account=None, *, with_client: bool = True) -> dict[str, Any]:
    """An account with operators, a service, a number, a pause reason, a prompt, a caller route, an ended and
    a connected call, an invoice and a refusal; its token; and each object's id under its API path.

    With `with_client` the account also resells to one client (its supervisor and token are the provisioning
    API's objects); tests that build their own account family pass False so the seed adds no account."""
    account = account or factories.make_account()
    op, other_op = factories.make_operator(account), factories.make_operator(account)
    service = factories.make_service(account, [(op, 5), (other_op, 3)], wrapup_seconds=0)
    number = factories.make_number(account, service)
    reason = factories.make_pause_reason(account)
    prompt = Prompt(account=account, name="Welcome", kind=PromptKind.WELCOME)
    prompt.audio = SimpleUploadedFile("w.wav", tone_wav(0.5))
    prompt.full_clean()
    prompt.save()
    route = CallerRoute.objects.create(account=account, prefix="+3906", service=service)
    presence.login_operator(op.pk)
    switch = Switch(account, clock)
    ended, commands = switch.incoming(number.number)
    switch.answer(ended, only_ring(commands))
    clock.advance(30)
    switch.hangup(ended)
    live, commands = switch.incoming(number.number)
    presence.login_operator(other_op.pk)
    switch.answer(live, only_ring(commands))
    invoice = issue_invoice(account.pk, 2026, 3)
    LimitRefusal.objects.create(account=account, limited_by=account, at=now(), direction="inbound")
    campaign = Campaign.objects.create(account=account, name="Spring offers", service=service,
                                       caller_id="+390212345678")
    lead_list = LeadList.objects.create(account=account, campaign=campaign, name="March")
    lead = Lead.objects.create(account=account, lead_list=lead_list, phone="+390612345678", timezone="Europe/Rome")
    open_attempt = Attempt.objects.create(account=account, campaign=campaign, lead=lead, number=1, created_at=now(),
                                          outcome=AttemptOutcome.NO_ANSWER, ended_at=now())
    done = Attempt.objects.create(account=account, campaign=campaign, lead=lead, number=2, created_at=now(),
                                  outcome=AttemptOutcome.CONNECTED, operator=op, ended_at=now())
    disposition = Disposition.objects.create(attempt=done, kind=DispositionKind.NOT_INTERESTED, operator=op, at=now())
    menu = Menu.objects.create(account=account, name="Main menu")
    MenuOption.objects.create(menu=menu, digit="1", label="Sales", service=service)
    subscription = Subscription.objects.create(account=account, url="https://hooks.example.com/centralino",
                                               event_types=list(EventType.values))
    delivery = Delivery.objects.create(account=account, subscription=subscription, event_type=EventType.CALL_ENDED,
                                       payload={"type": EventType.CALL_ENDED}, created_at=now())
    ids: dict[str, int] = {}
    if with_client:
        # A reseller with one client, its supervisor and its token: the provisioning API's objects.
        account.is_reseller = True
        account.save(update_fields=["is_reseller"])
        client = factories.make_account(parent=account)
        create_supervisor(client, f"sup-{client.slug}", "a-long-passphrase-9")
        client_token, _raw = create_api_token(client, "client's first token")
        ids = {"clients": client.pk, "tokens": client_token.pk}
    ids |= {"operators": op.pk, "services": service.pk, "numbers": number.pk, "pause-reasons": reason.pk,
           "prompts": prompt.pk, "caller-routes": route.pk, "invoices": invoice.pk,
           "calls": Call.objects.get(engine_ref=live).pk, "campaigns": campaign.pk, "lead-lists": lead_list.pk,
           "attempts": open_attempt.pk, "dispositions": disposition.pk, "menus": menu.pk, "webhooks": subscription.pk,
           "webhook-deliveries": delivery.pk}
    return {"account": account, "token": factories.make_token(account), "ids": ids}
