"""Build the account a scenario describes: operators, services, numbers. Every simulation gets its own
account (flagged `is_simulation` at max speed, so the periodic sweeper leaves its clock alone)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from accounts.models import Account, ApiToken
from agents.models import Operator
from billing.defaults import ensure_default_plans
from billing.models import Plan
from routing.models import PhoneNumber, Service, ServiceMembership

from .campaigns import build_campaigns
from .menus import build_menus
from .scenario import Scenario


@transaction.atomic
def build_account(scenario: Scenario, *, simulation: bool) -> Account:
    ensure_default_plans()
    spec = scenario.account
    existing = Account.objects.filter(slug=spec["slug"]).first() if spec.get("slug") else None
    if existing is not None:
        # A named scenario account is reused, but never a real account (operators who sign in with passwords,
        # API tokens) unless the scenario says it plays beside people on purpose (the demo floor, on the demo
        # account, so its supervisor watches it) and the server runs in demo mode (DEBUG): never in production.
        if _is_real(existing) and not (spec.get("shares_account_with_people") and settings.DEBUG):
            raise ValidationError(f"account.slug: {existing.slug!r} is a real account, not a simulation; "
                                  "a scenario runs only on an account of its own (choose another slug)")
        # What the scenario describes is added to it once, what the account has is kept.
        _check_numbers(scenario, existing)
        _build_parts(existing, scenario)
        return existing
    plan = Plan.objects.filter(code=spec.get("plan", "unlimited-plus")).first()
    if plan is None:
        raise ValidationError(f"account.plan: no plan with code {spec.get('plan')!r}")
    _check_numbers(scenario, None)
    account = Account.objects.create(
        name=spec.get("name", scenario.name),
        slug=spec.get("slug") or f"sim-{slugify(scenario.name)[:30]}-{uuid.uuid4().hex[:6]}",
        plan=plan, timezone=spec.get("timezone", "Europe/Rome"), is_simulation=simulation,
        extra_channels=int(spec.get("extra_channels", 0)) if plan.extra_channels_allowed else 0)
    _build_parts(account, scenario)
    return account


def _is_real(account: Account) -> bool:
    """People use this account: an operator signs in with a password, or an integrator holds a token."""
    return (Operator.objects.filter(account=account).exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX).exists()
            or ApiToken.objects.filter(account=account).exists())


def _check_numbers(scenario: Scenario, account: Account | None) -> None:
    wanted = [*scenario.numbers, *scenario.menu_numbers]
    taken = PhoneNumber.objects.filter(number__in=wanted).select_related("account").exclude(account=account)
    for number in taken:
        if not number.account.is_simulation:
            raise ValidationError(f"numbers: {number.number} belongs to the real account {number.account}")
    taken.delete()  # an earlier simulation's numbers: this run takes them over


def _build_parts(account: Account, scenario: Scenario) -> None:
    """The scenario's operators, services and numbers on `account`; those it already has are left as they are."""
    unusable = make_password(None)
    have = set(Operator.objects.filter(account=account).values_list("login", flat=True))
    code = max([100, *Operator.objects.filter(account=account).values_list("code", flat=True)])
    operators: dict[str, list[Operator]] = {}
    for group in scenario.operators:
        batch = []
        for i in range(group.count):
            login = f"{group.prefix}{i + 1}"
            if login in have:
                continue
            code += 1
            batch.append(Operator(account=account, name=login, login=login, code=code, password=unusable,
                                  endpoint=f"sip:{login}@sim.centralino.local"))
        Operator.objects.bulk_create(batch)
        operators[group.prefix] = list(Operator.objects.filter(
            account=account, login__in=[f"{group.prefix}{i + 1}" for i in range(group.count)]).order_by("id"))
    skills = {g.prefix: g.skill for g in scenario.operators}
    services = {}
    for spec_service in scenario.services:
        service = Service.objects.filter(account=account, name=spec_service.name).first()
        if service is None:
            service = Service(account=account, name=spec_service.name, criterion=spec_service.criterion,
                              **spec_service.settings)
            service.full_clean(exclude=["account"])
            service.save()
            ServiceMembership.objects.bulk_create([
                ServiceMembership(service=service, operator=op, skill_level=skills[prefix])
                for prefix in spec_service.operators for op in operators[prefix]])
        services[service.name] = service
    for number, service_name in scenario.numbers.items():
        PhoneNumber.objects.get_or_create(number=number, defaults={"account": account,
                                                                   "service": services[service_name]})
    build_menus(account.pk, scenario.menus, scenario.menu_numbers, services)
    build_campaigns(account, scenario.campaigns, services)
