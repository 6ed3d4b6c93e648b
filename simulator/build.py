"""Build the account a scenario describes: operators, services, numbers. Every simulation gets its own
account (flagged `is_simulation` at max speed, so the periodic sweeper leaves its clock alone)."""

from __future__ import annotations

import uuid

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from accounts.models import Account
from agents.models import Operator
from billing.defaults import ensure_default_plans
from billing.models import Plan
from routing.models import PhoneNumber, Service, ServiceMembership

from .scenario import Scenario


@transaction.atomic
def build_account(scenario: Scenario, *, simulation: bool) -> Account:
    ensure_default_plans()
    spec = scenario.account
    if spec.get("slug"):
        existing = Account.objects.filter(slug=spec["slug"]).first()
        if existing is not None:
            return existing  # a named scenario account is built once and reused (the demo floor)
    plan = Plan.objects.filter(code=spec.get("plan", "unlimited-plus")).first()
    if plan is None:
        raise ValidationError(f"account.plan: no plan with code {spec.get('plan')!r}")
    taken = PhoneNumber.objects.filter(number__in=list(scenario.numbers)).select_related("account")
    for number in taken:
        if not number.account.is_simulation:
            raise ValidationError(f"numbers: {number.number} belongs to the real account {number.account}")
    taken.delete()  # an earlier simulation's numbers: this run takes them over
    account = Account.objects.create(
        name=spec.get("name", scenario.name),
        slug=spec.get("slug") or f"sim-{slugify(scenario.name)[:30]}-{uuid.uuid4().hex[:6]}",
        plan=plan, timezone=spec.get("timezone", "Europe/Rome"), is_simulation=simulation,
        extra_channels=int(spec.get("extra_channels", 0)) if plan.extra_channels_allowed else 0)
    unusable = make_password(None)
    operators: dict[str, list[Operator]] = {}
    code = 100
    for group in scenario.operators:
        batch = []
        for i in range(group.count):
            code += 1
            login = f"{group.prefix}{i + 1}"
            batch.append(Operator(account=account, name=login, login=login, code=code, password=unusable,
                                  endpoint=f"sip:{login}@sim.centralino.local"))
        operators[group.prefix] = Operator.objects.bulk_create(batch)
    skills = {g.prefix: g.skill for g in scenario.operators}
    services = {}
    for spec_service in scenario.services:
        service = Service(account=account, name=spec_service.name, criterion=spec_service.criterion,
                          **spec_service.settings)
        service.full_clean(exclude=["account"])
        service.save()
        services[service.name] = service
        ServiceMembership.objects.bulk_create([
            ServiceMembership(service=service, operator=op, skill_level=skills[prefix])
            for prefix in spec_service.operators for op in operators[prefix]])
    for number, service_name in scenario.numbers.items():
        PhoneNumber.objects.create(account=account, number=number, service=services[service_name])
    return account
