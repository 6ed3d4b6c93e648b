"""What a menu refuses on save: loops, nesting past MAX_DEPTH, another account's services, menus, prompts."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError

from ivr.choices import OptionAction
from ivr.models import MAX_DEPTH, Menu, MenuNumber, MenuOption
from tests import factories

from .menus import two_level_menu

pytestmark = pytest.mark.django_db


def _chain(account, levels: int) -> list[Menu]:
    menus = [Menu.objects.create(account=account, name=f"Livello {n}") for n in range(levels)]
    for upper, lower in itertools.pairwise(menus):
        option = MenuOption(menu=upper, digit="1", label="Giù", action=OptionAction.SUBMENU, submenu=lower)
        option.full_clean()
        option.save()
    return menus


def test_menus_nest_up_to_the_depth_limit_and_no_further(account):
    menus = _chain(account, MAX_DEPTH)
    extra = Menu.objects.create(account=account, name="Troppo")
    option = MenuOption(menu=menus[-1], digit="1", label="Giù", action=OptionAction.SUBMENU, submenu=extra)
    with pytest.raises(ValidationError) as exc:
        option.full_clean()
    assert "submenu" in exc.value.message_dict and str(MAX_DEPTH) in exc.value.message_dict["submenu"][0]
    # Hanging a deep chain under a new top menu is measured from below too.
    top = Menu.objects.create(account=account, name="Sopra")
    option = MenuOption(menu=top, digit="5", label="Giù", action=OptionAction.SUBMENU, submenu=menus[0])
    with pytest.raises(ValidationError):
        option.full_clean()


def test_a_menu_cannot_loop_back_to_itself(account):
    first, second = _chain(account, 2)
    option = MenuOption(menu=second, digit="2", label="Su", action=OptionAction.SUBMENU, submenu=first)
    with pytest.raises(ValidationError) as exc:
        option.full_clean()
    assert "loop" in exc.value.message_dict["submenu"][0]


def test_another_accounts_service_menu_and_number_are_refused(account):
    tree = two_level_menu(account)
    other = factories.make_account()
    theirs = factories.make_service(other, name="Loro")
    their_menu = Menu.objects.create(account=other, name="Loro")
    with pytest.raises(ValidationError) as exc:
        MenuOption(menu=tree.top, digit="3", label="x", service=theirs).full_clean()
    assert "service" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        MenuOption(menu=tree.top, digit="3", label="x", action=OptionAction.SUBMENU, submenu=their_menu).full_clean()
    assert "submenu" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        MenuNumber(menu=their_menu, number=factories.make_number(account)).full_clean()
    assert "number" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        Menu(account=account, name="F", fallback_action="service", fallback_service=theirs).full_clean()
    assert "fallback_service" in exc.value.message_dict


def test_an_option_to_a_service_needs_the_service_and_a_menu_number_has_none(account):
    tree = two_level_menu(account)
    with pytest.raises(ValidationError) as exc:
        MenuOption(menu=tree.top, digit="4", label="x", action=OptionAction.SERVICE).full_clean()
    assert "service" in exc.value.message_dict
    number = factories.make_number(account, tree.sales)
    with pytest.raises(ValidationError) as exc:
        MenuNumber(menu=tree.top, number=number).full_clean()
    assert "number" in exc.value.message_dict
