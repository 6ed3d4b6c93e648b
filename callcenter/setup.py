"""The six-step setup of a virtual call center (domain.md, seed 001), each step done or not."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from agents.choices import OperatorState
from agents.models import Operator, OperatorEvent, PauseReason
from routing.models import PhoneNumber, Service, ServiceMembership


@dataclass(frozen=True)
class SetupStep:
    number: int
    title: str
    done: bool
    detail: str
    url: str
    optional: bool = False


def _link(model: str, existing: int) -> str:
    """Nothing yet: straight to the add form. Otherwise: the list, to review."""
    return reverse(f"admin:{model}_{'changelist' if existing else 'add'}")


def setup_steps(account: Account) -> list[SetupStep]:
    numbers = PhoneNumber.objects.filter(account=account, is_active=True)
    routed = numbers.filter(service__isnull=False).count()
    operators = Operator.objects.filter(account=account, is_active=True).exclude(password="")
    services = Service.objects.filter(account=account, is_active=True)
    staffed = ServiceMembership.objects.filter(service__in=services).values("service").distinct().count()
    with_prompt = services.filter(Q(welcome_prompt__isnull=False) | Q(hold_prompt__isnull=False)).count()
    ever_logged_in = OperatorEvent.objects.filter(account=account, from_state=OperatorState.LOGGED_OUT).exists()
    reasons = PauseReason.objects.filter(account=account, is_active=True).count()
    n_numbers, n_ops, n_services = numbers.count(), operators.count(), services.count()
    return [
        SetupStep(1, str(_("Activate a number")), routed > 0,
                  str(_("%(n)d active numbers, %(r)d reaching a service")) % {"n": n_numbers, "r": routed},
                  _link("routing_phonenumber", n_numbers)),
        SetupStep(2, str(_("Define the operators (login and password)")), n_ops > 0,
                  str(_("%(n)d operators")) % {"n": n_ops},
                  _link("agents_operator", n_ops)),
        SetupStep(3, str(_("Define a service, its operators and criterion")), staffed > 0,
                  str(_("%(n)d services, %(s)d with operators")) % {"n": n_services, "s": staffed},
                  _link("routing_service", n_services)),
        SetupStep(4, str(_("Add the welcome and hold prompts")), with_prompt > 0,
                  str(_("%(n)d services with a prompt")) % {"n": with_prompt},
                  reverse("admin:routing_prompt_add"), optional=True),
        SetupStep(5, str(_("Operators log in")), ever_logged_in,
                  str(_("%(n)d operators logged in now")) % {
                      "n": operators.exclude(state=OperatorState.LOGGED_OUT).count()},
                  reverse("admin:agents_operator_changelist")),
        SetupStep(6, str(_("Operators pause (with a reason) and log off")), reasons > 0,
                  str(_("%(n)d pause reasons")) % {"n": reasons},
                  _link("agents_pausereason", reasons)),
    ]
