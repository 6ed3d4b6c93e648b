from __future__ import annotations

import pytest

from acd.tests.switch import Switch
from agents import actions as presence
from dialer import actions
from dialer.choices import CampaignMode, CampaignState
from dialer.models import Campaign, Lead, LeadList
from tests import factories


@pytest.fixture
def account(db):
    return factories.make_account()


@pytest.fixture
def switch(account, clock):
    return Switch(account, clock)


class Floor:
    """An account with operators logged in to one service, and a running campaign on it."""

    def __init__(self, account, operators: int = 1, **campaign):
        self.account = account
        self.ops = [factories.make_operator(account) for _ in range(operators)]
        self.service = factories.make_service(account, [(op, 5) for op in self.ops], wrapup_seconds=5)
        for op in self.ops:
            presence.login_operator(op.pk)
        self.campaign = Campaign.objects.create(
            account=account, name=f"Campaign {account.pk}", service=self.service, caller_id="+390212345678",
            **{"mode": CampaignMode.PROGRESSIVE, "amd_enabled": True, **campaign})
        self.campaign = actions.change_campaign_state(self.campaign.pk, CampaignState.RUNNING, by="test")
        self.list = LeadList.objects.create(account=account, campaign=self.campaign, name="List")

    def lead(self, phone: str = "+390612345678", tz: str = "Europe/Rome") -> Lead:
        return Lead.objects.create(account=self.account, lead_list=self.list, phone=phone, timezone=tz)


@pytest.fixture
def floor(account, clock):
    return lambda **kw: Floor(account, **kw)
