"""The menus' API: CRUD scoped to the account (the generic mixin), nested options and numbers, 400s that
name the field (loops, depth, another account's objects), statistics per option."""

from __future__ import annotations

import itertools

import pytest
from django.urls import reverse

from acd.tests.switch import Switch
from ivr.choices import OptionAction
from ivr.models import MAX_DEPTH, Menu, MenuNumber, MenuOption
from telephony import port
from tests import factories
from tests.api import ApiResourceTests, client_for

from .menus import two_level_menu


class TestMenus(ApiResourceTests):
    basename = "menu"
    model = Menu

    def create_data(self, account):
        service = factories.make_service(account)
        return {"name": "Principale", "timeout_seconds": 4,
                "options": [{"digit": "1", "label": "Vendite", "action": OptionAction.SERVICE, "service": service.pk}],
                "numbers": [factories.make_number(account).pk]}

    def update_data(self, account):
        return {"max_retries": 3}

    def make_object(self, account):
        return Menu.objects.create(account=account, name=f"Menu {Menu.objects.count()}")

    def test_options_and_numbers_are_written_and_replaced(self, account):
        client = client_for(account)
        data = self.create_data(account)
        created = client.post(self.list_url(), data, format="json")
        assert created.status_code == 201, created.json()
        menu = Menu.objects.get(pk=created.json()["id"])
        assert list(menu.options.values_list("digit", "label")) == [("1", "Vendite")]
        assert created.json()["numbers"] == data["numbers"]
        sub = Menu.objects.create(account=account, name="Sotto")
        changed = client.patch(self.detail_url(menu.pk), {"options": [
            {"digit": "2", "label": "Altro", "action": OptionAction.SUBMENU, "submenu": sub.pk}]}, format="json")
        assert changed.status_code == 200, changed.json()
        assert list(menu.options.values_list("digit", "submenu_id")) == [("2", sub.pk)]
        assert MenuNumber.objects.filter(menu=menu).count() == 1  # numbers not given: kept

    def test_another_accounts_service_or_menu_is_a_400_naming_the_field(self, account, other):
        client = client_for(account)
        theirs = factories.make_service(other)
        response = client.post(self.list_url(), {"name": "X", "options": [
            {"digit": "1", "label": "x", "service": theirs.pk}]}, format="json")
        assert response.status_code == 400 and "options" in response.json(), response.json()
        response = client.post(self.list_url(), {"name": "X", "fallback_action": "service",
                                                  "fallback_service": theirs.pk}, format="json")
        assert response.status_code == 400 and "fallback_service" in response.json()
        response = client.post(self.list_url(), {"name": "X", "numbers": [factories.make_number(other).pk]},
                               format="json")
        assert response.status_code == 400 and "numbers" in response.json()
        assert not Menu.objects.filter(account=account).exists()

    def test_a_loop_or_a_nesting_too_deep_is_a_400_and_nothing_is_saved(self, account):
        client = client_for(account)
        chain = [Menu.objects.create(account=account, name=f"L{n}") for n in range(MAX_DEPTH)]
        for upper, lower in itertools.pairwise(chain):
            MenuOption.objects.create(menu=upper, digit="1", label="giù", action=OptionAction.SUBMENU, submenu=lower)
        response = client.post(self.list_url(), {"name": "Sopra", "options": [
            {"digit": "1", "label": "giù", "action": OptionAction.SUBMENU, "submenu": chain[0].pk}]}, format="json")
        assert response.status_code == 400 and "options" in response.json(), response.json()
        assert not Menu.objects.filter(name="Sopra").exists()
        response = client.patch(self.detail_url(chain[-1].pk), {"options": [
            {"digit": "3", "label": "su", "action": OptionAction.SUBMENU, "submenu": chain[0].pk}]}, format="json")
        assert response.status_code == 400 and "options" in response.json()
        assert list(chain[-1].options.values_list("digit", flat=True)) == []


@pytest.mark.django_db
def test_stats_count_each_option_and_are_scoped(clock):
    account, other = factories.make_account(), factories.make_account()
    op = factories.make_operator(account)
    tree = two_level_menu(account, [op])
    switch = Switch(account, clock)
    for digits in ("1", "2", "7"):
        ref, _ = switch.incoming(tree.number.number, caller=f"+39333000000{digits}")
        switch.event(port.Digits, ref, digits=digits)
    url = reverse("menu-stats", args=[tree.top.pk])
    body = client_for(account).get(url).json()
    assert {o["digit"]: o["count"] for o in body["options"]} == {"1": 1, "2": 1, "9": 0}
    assert body["invalid"] == 1 and body["timeout"] == 0
    assert client_for(other).get(url).status_code == 404
    bad = client_for(account).get(url, {"days": "94"})
    assert bad.status_code == 400 and "days" in bad.json()
