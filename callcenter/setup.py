"""The six-step setup of a virtual call center (domain.md, seed 001), each step done or not.

A step is done only when that part would actually work: a number counts once it reaches a service that has
an operator who can log in; a service counts once it has such an operator; the prompts count once a
reached service greets its callers; step 6 counts once an operator has really paused with a reason and
logged off, not merely because the account has pause reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Account
from accounts.scoped_admin import SETUP_FLAG
from agents.choices import OperatorState
from agents.models import Operator, OperatorEvent, PauseReason
from ivr.models import Menu
from routing.choices import NumberPurpose
from routing.models import PhoneNumber, Prompt, Service, ServiceMembership


@dataclass(frozen=True)
class SetupStep:
    number: int
    title: str
    done: bool
    detail: str
    url: str | None  # None: this user may not open it (the page says whom to ask instead of a broken link)
    optional: bool = False
    is_next: bool = False


@dataclass(frozen=True)
class Readiness:
    """Whether a call to one of the account's numbers would reach someone now, and if not, why not."""

    ready: bool
    number: str
    service: str
    operators_in: int


def _allowed(user: Any, model: str, action: str) -> bool:
    if user is None:
        return True
    app, name = model.split("_", 1)
    return user.has_perm(f"{app}.{action}_{name}")


def _link(user: Any, model: str, existing: int, step: int) -> str | None:
    """Nothing yet: straight to the add form (which comes back here once saved). Otherwise: the list."""
    if not existing and _allowed(user, model, "add"):
        return f"{reverse(f'admin:{model}_add')}?{SETUP_FLAG}={step}"
    if _allowed(user, model, "view") or _allowed(user, model, "change"):
        return reverse(f"admin:{model}_changelist")
    return None


def menu_link(account: Account, user: Any) -> str | None:
    """Step 1's alternative: a number may answer with a voice menu ("press 1 for sales") instead of one
    service; the link opens the menus (or a new one) for whoever may edit them."""
    return _link(user, "ivr_menu", Menu.objects.filter(account=account).count(), 1)


def setup_steps(account: Account, user: Any = None) -> list[SetupStep]:
    """The six steps for `account`; with `user`, links only to the pages that user may open."""
    can_log_in = Operator.objects.filter(account=account, is_active=True).exclude(password="")
    staffed = Service.objects.filter(account=account, is_active=True).filter(Exists(
        ServiceMembership.objects.filter(service=OuterRef("pk"), operator__in=can_log_in)))
    numbers = PhoneNumber.objects.filter(account=account, is_active=True, purpose=NumberPurpose.CALLS)
    # A number answering with a voice menu reaches the staffed services its menu's options lead to (one level
    # down is enough to know a caller can get to someone).
    reaching = numbers.filter(Q(service__in=staffed) | Q(menu_link__menu__options__service__in=staffed)
                              | Q(menu_link__menu__options__submenu__options__service__in=staffed)).distinct()
    n_menus = numbers.filter(menu_link__isnull=False).count()
    greeted = staffed.filter(welcome_prompt__isnull=False).filter(
        Exists(PhoneNumber.objects.filter(service=OuterRef("pk"), is_active=True)))
    with_hold = staffed.filter(hold_prompt__isnull=False).count()
    events = OperatorEvent.objects.filter(account=account)
    ever_logged_in = events.filter(from_state=OperatorState.LOGGED_OUT).exists()
    paused_with_reason = events.filter(to_state=OperatorState.PAUSED).exclude(reason="").exists()
    logged_off = events.filter(to_state=OperatorState.LOGGED_OUT).exists()
    reasons = PauseReason.objects.filter(account=account, is_active=True).count()
    n_numbers, n_reaching = numbers.count(), reaching.count()
    n_ops = can_log_in.count()
    n_services = Service.objects.filter(account=account, is_active=True).count()
    n_staffed, n_greeted = staffed.count(), greeted.count()
    n_in = can_log_in.exclude(state=OperatorState.LOGGED_OUT).count()
    step6 = reasons > 0 and paused_with_reason and logged_off
    detail = {
        1: ngettext("%(n)d active number", "%(n)d active numbers", n_numbers) % {"n": n_numbers} + ", "
        + ngettext("%(n)d reaching a service with operators", "%(n)d reaching a service with operators",
                   n_reaching) % {"n": n_reaching}
        + (", " + ngettext("%(n)d answering with a voice menu", "%(n)d answering with a voice menu",
                           n_menus) % {"n": n_menus} if n_menus else ""),
        2: ngettext("%(n)d operator who can log in", "%(n)d operators who can log in", n_ops) % {"n": n_ops},
        3: ngettext("%(n)d service", "%(n)d services", n_services) % {"n": n_services} + ", "
        + ngettext("%(n)d with operators", "%(n)d with operators", n_staffed) % {"n": n_staffed},
        4: ngettext("%(n)d reachable service with a welcome message",
                    "%(n)d reachable services with a welcome message", n_greeted) % {"n": n_greeted} + ", "
        + ngettext("%(n)d with hold music", "%(n)d with hold music", with_hold) % {"n": with_hold},
        5: ngettext("%(n)d operator logged in now", "%(n)d operators logged in now", n_in) % {"n": n_in},
    }
    steps = [
        SetupStep(1, str(_("Activate a number")), n_reaching > 0, detail[1],
                  _link(user, "routing_phonenumber", n_numbers, 1)),
        SetupStep(2, str(_("Define the operators (login and password)")), n_ops > 0, detail[2],
                  _link(user, "agents_operator", n_ops, 2)),
        SetupStep(3, str(_("Define a service, its operators and criterion")), n_staffed > 0, detail[3],
                  _link(user, "routing_service", n_services, 3)),
        SetupStep(4, str(_("Add the welcome and hold prompts")), n_greeted > 0, detail[4],
                  _prompt_link(user, account), optional=True),
        SetupStep(5, str(_("Operators log in")), ever_logged_in, detail[5],
                  _link(user, "agents_operator", 1, 5)),
        SetupStep(6, str(_("Operators pause (with a reason) and log off")), step6,
                  _step6_detail(reasons, paused_with_reason, logged_off),
                  _link(user, "agents_pausereason", reasons, 6) if not reasons
                  else _link(user, "agents_operator", 1, 6)),
    ]
    first_todo = next((s.number for s in steps if not s.done), None)
    return [SetupStep(**{**s.__dict__, "is_next": s.number == first_todo}) for s in steps]


def _prompt_link(user: Any, account: Account) -> str | None:
    return _link(user, "routing_prompt", Prompt.objects.filter(account=account).count(), 4)


def _step6_detail(reasons: int, paused: bool, logged_off: bool) -> str:
    parts = [ngettext("%(n)d pause reason", "%(n)d pause reasons", reasons) % {"n": reasons}]
    parts.append(str(_("an operator paused with a reason")) if paused else str(_("nobody paused with a reason yet")))
    parts.append(str(_("an operator logged off")) if logged_off else str(_("nobody logged off yet")))
    return ", ".join(parts)


def readiness(account: Account) -> Readiness | None:
    """The first number that reaches a staffed service, with how many of its operators are logged in."""
    number = (PhoneNumber.objects.filter(account=account, is_active=True, purpose=NumberPurpose.CALLS,
                                         service__is_active=True).select_related("service")
              .order_by("number").first())
    if number is None:
        return None
    members = Operator.objects.filter(services=number.service, is_active=True).exclude(password="")
    logged_in = members.exclude(state=OperatorState.LOGGED_OUT).count()
    return Readiness(ready=logged_in > 0, number=number.number, service=number.service.name,
                     operators_in=logged_in)
