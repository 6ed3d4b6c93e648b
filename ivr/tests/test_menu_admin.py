"""The menus in the admin: a supervisor adds a two-level menu with its options and number inline, sees only
their own account's services, menus and numbers, and a loop is refused on the form; the setup page points
step 1 to the menus; the menu's page counts the choices per option."""

from __future__ import annotations

import pytest
from django.urls import reverse

from acd.tests.switch import Switch
from ivr.models import Menu, MenuNumber
from telephony import port
from tests import factories

from .menus import two_level_menu

pytestmark = pytest.mark.django_db


def _form(name: str, options: list[dict], numbers: list[int]) -> dict:
    data = {"name": name, "timeout_seconds": "6", "max_retries": "2", "fallback_action": "hangup",
            "options-TOTAL_FORMS": str(len(options)), "options-INITIAL_FORMS": "0",
            "numbers-TOTAL_FORMS": str(len(numbers)), "numbers-INITIAL_FORMS": "0"}
    for i, option in enumerate(options):
        data.update({f"options-{i}-{k}": v for k, v in option.items()})
    for i, number in enumerate(numbers):
        data[f"numbers-{i}-number"] = str(number)
    return data


def test_a_supervisor_builds_a_menu_with_inlines_scoped_to_their_account(client):
    account, other = factories.make_account(), factories.make_account()
    sales = factories.make_service(account, name="Vendite")
    theirs = factories.make_service(other, name="Loro servizio")
    number = factories.make_number(account)
    their_number = factories.make_number(other)
    client.force_login(factories.make_supervisor(account))
    add = client.get(reverse("admin:ivr_menu_add"))
    page = add.content.decode()
    assert add.status_code == 200 and "Vendite" in page and "Loro servizio" not in page
    assert their_number.number not in page
    response = client.post(reverse("admin:ivr_menu_add"), _form("Principale", [
        {"digit": "1", "label": "Vendite", "action": "service", "service": sales.pk}], [number.pk]))
    assert response.status_code == 302, response.content.decode()[:3000]
    menu = Menu.objects.get(account=account, name="Principale")
    assert list(menu.options.values_list("digit", "service_id")) == [("1", sales.pk)]
    assert MenuNumber.objects.get(number=number).menu == menu
    refused = client.post(reverse("admin:ivr_menu_add"), _form("Rubata", [
        {"digit": "1", "label": "x", "action": "service", "service": theirs.pk}], [their_number.pk]))
    assert refused.status_code == 200 and not Menu.objects.filter(name="Rubata").exists()


def test_a_loop_is_refused_on_the_form_with_a_clear_error(client):
    account = factories.make_account()
    tree = two_level_menu(account)
    client.force_login(factories.make_supervisor(account))
    url = reverse("admin:ivr_menu_change", args=[tree.sub.pk])
    data = _form(tree.sub.name, [], [])
    data.update({"fallback_action": "service", "fallback_service": str(tree.bills.pk),
                 "options-TOTAL_FORMS": "3", "options-INITIAL_FORMS": "2"})
    for i, option in enumerate(tree.sub.options.order_by("digit")):
        data.update({f"options-{i}-id": str(option.pk), f"options-{i}-menu": str(tree.sub.pk),
                     f"options-{i}-digit": option.digit, f"options-{i}-label": option.label,
                     f"options-{i}-action": option.action, f"options-{i}-service": str(option.service_id)})
    data.update({"options-2-menu": str(tree.sub.pk), "options-2-digit": "3", "options-2-label": "Su",
                 "options-2-action": "submenu", "options-2-submenu": str(tree.top.pk)})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "menus cannot loop" in response.content.decode()
    assert not tree.sub.options.filter(digit="3").exists()


def test_the_menu_page_counts_choices_and_the_setup_page_mentions_menus(client, clock):
    account = factories.make_account()
    tree = two_level_menu(account)
    switch = Switch(account, clock)
    ref, _ = switch.incoming(tree.number.number)
    switch.event(port.Digits, ref, digits="2")
    client.force_login(factories.make_supervisor(account))
    page = client.get(reverse("admin:ivr_menu_change", args=[tree.top.pk])).content.decode()
    assert "2 Assistenza: <strong>1</strong>" in page and "1 Vendite: <strong>0</strong>" in page
    setup = client.get(reverse("admin:accounts_account_my_setup"), follow=True).content.decode()
    assert reverse("admin:ivr_menu_changelist") in setup and "1 answering with a voice menu" in setup
