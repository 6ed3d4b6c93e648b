"""Small builders for test data (plain functions: clearer than a factory library for this size)."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

from accounts.actions import create_api_token, create_supervisor
from accounts.models import Account, Plan
from agents import actions as presence
from agents.choices import EndpointKind
from agents.models import Operator, PauseReason
from billing.defaults import ensure_default_plans
from routing.models import PhoneNumber, Service, ServiceMembership

_seq = itertools.count(1)
PASSWORD = "s3cret-pass-word"


def make_account(name: str | None = None, plan_code: str = "unlimited-plus", **kw) -> Account:
    n = next(_seq)
    ensure_default_plans()
    return Account.objects.create(name=name or f"Account {n}", slug=f"acct-{n}",
                                  plan=Plan.objects.get(code=plan_code), **kw)


def make_operator(account: Account, login: str | None = None, code: int | None = None, **kw) -> Operator:
    n = next(_seq)
    op = Operator(account=account, name=kw.pop("name", f"Operator {n}"), login=login or f"op{n}",
                  code=code or n, endpoint_kind=kw.pop("endpoint_kind", EndpointKind.SIP),
                  endpoint=kw.pop("endpoint", f"sip:op{n}@pbx.example.com"), **kw)
    op.set_password(PASSWORD)
    op.set_pin("1234")
    op.save()
    return op


def make_service(account: Account, operators: list[tuple[Operator, int]] = (), **kw) -> Service:
    n = next(_seq)
    service = Service.objects.create(account=account, name=kw.pop("name", f"Service {n}"), **kw)
    for op, level in operators:
        ServiceMembership.objects.create(service=service, operator=op, skill_level=level)
    return service


def make_number(account: Account, service: Service | None = None, number: str | None = None,
                **kw) -> PhoneNumber:
    n = next(_seq)
    return PhoneNumber.objects.create(account=account, service=service, number=number or f"+3902{1000000 + n}",
                                      **kw)


def make_pause_reason(account: Account, name: str = "Lunch") -> PauseReason:
    return PauseReason.objects.get_or_create(account=account, name=name)[0]


def make_token(account: Account) -> str:
    return create_api_token(account, "test")[1]


def make_supervisor(account: Account):
    return create_supervisor(account, f"sup{next(_seq)}", PASSWORD).user


def make_superuser():
    return get_user_model().objects.create_superuser(f"root{next(_seq)}", "root@example.com", PASSWORD)


def make_floor(account: Account | None = None) -> tuple[Account, Operator, PhoneNumber]:
    """The smallest working call center: one operator, logged in, on a service a number points at."""
    account = account or make_account()
    op = make_operator(account)
    number = make_number(account, make_service(account, [(op, 5)]))
    presence.login_operator(op.pk)
    return account, op, number
