"""A two-level menu on a fresh account: 1 Vendite (→ Sales), 2 Assistenza (→ sub-menu: 1 Guasti, 2 Fatture)."""

from __future__ import annotations

from dataclasses import dataclass

from acd.tests.test_queue_overflow import factories_prompt
from ivr.choices import OptionAction
from ivr.models import Menu, MenuNumber, MenuOption
from routing.choices import PromptKind
from routing.models import PhoneNumber, Service
from tests import factories


@dataclass
class Tree:
    top: Menu
    sub: Menu
    sales: Service
    faults: Service
    bills: Service
    number: PhoneNumber


def two_level_menu(account, operators=(), *, whisper=True) -> Tree:
    sales = factories.make_service(account, [(op, 5) for op in operators], name="Vendite",
                                   whisper_menu_choice=whisper)
    faults = factories.make_service(account, [(op, 5) for op in operators], name="Guasti",
                                    whisper_menu_choice=whisper)
    bills = factories.make_service(account, [(op, 5) for op in operators], name="Fatture")
    top = Menu.objects.create(account=account, name="Principale", prompt=factories_prompt(account, PromptKind.MENU),
                              timeout_seconds=5, max_retries=1)
    sub = Menu.objects.create(account=account, name="Assistenza", timeout_seconds=5, max_retries=0,
                              fallback_action="service", fallback_service=bills)
    MenuOption.objects.create(menu=top, digit="1", label="Vendite", service=sales)
    MenuOption.objects.create(menu=top, digit="2", label="Assistenza", action=OptionAction.SUBMENU, submenu=sub)
    MenuOption.objects.create(menu=top, digit="9", label="Ripeti", action=OptionAction.REPEAT)
    MenuOption.objects.create(menu=sub, digit="1", label="Guasti", service=faults,
                              whisper_prompt=factories_prompt(account, PromptKind.WHISPER))
    MenuOption.objects.create(menu=sub, digit="2", label="Fatture", service=bills)
    number = factories.make_number(account, None)
    MenuNumber.objects.create(menu=top, number=number)
    return Tree(top, sub, sales, faults, bills, number)
