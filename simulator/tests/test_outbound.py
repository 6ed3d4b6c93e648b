"""The simulator's outbound outcomes drive a dialer campaign through the production ACD at max speed: the
dialer's placement loop ticks on the simulated clock, each dialled number answers, rings out, is busy or is a
machine per the scenario's rates, answered people reach the simulated operators, and the list moves."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db.models import Count

from billing.defaults import ensure_default_plans
from budget import actions as budget
from callcenter.demo import load_demo
from dialer import imports
from dialer.choices import AttemptOutcome, CampaignMode, CampaignState
from dialer.models import Attempt, Campaign, Lead, LeadList
from routing.models import Service
from simulator.build import build_account
from simulator.engine import Engine
from simulator.outbound import OutboundRates
from simulator.scenario import load

pytestmark = pytest.mark.django_db(transaction=True)

ALL_DAY = {d: ["00:00", "23:59"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def test_a_demo_campaign_moves_with_the_simulators_outbound_outcomes():
    scenario = load(settings.BASE_DIR / "scenarios" / "office-3.yaml")
    account = build_account(scenario, simulation=True)
    service = Service.objects.filter(account=account).order_by("pk").first()
    campaign = Campaign.objects.create(account=account, name="Outbound demo", service=service,
                                       caller_id="+390212345678", mode=CampaignMode.PROGRESSIVE,
                                       calling_hours=ALL_DAY, max_attempts=2, retry_busy_minutes=5,
                                       retry_no_answer_minutes=10, state=CampaignState.RUNNING)
    leads = LeadList.objects.create(account=account, campaign=campaign, name="Demo list")
    Lead.objects.bulk_create([Lead(account=account, lead_list=leads, phone=f"+3906{30000000 + k}",
                                   timezone="Europe/Rome") for k in range(150)])
    rates = OutboundRates(live=0.35, no_answer=0.5, busy=0.2, machine=0.3)
    engine = Engine(scenario, account.pk, seed=7, speed="max", hours=0.3, outbound=rates)
    engine.run()

    outcomes = dict(Attempt.objects.filter(campaign=campaign).values_list("outcome").annotate(n=Count("id")))
    placed = sum(engine.outbound.outcomes.values())
    assert placed >= 20, engine.outbound.outcomes
    # Every kind of far end happened, and the attempts recorded them as the ACD saw them.
    assert {"live", "no_answer", "busy", "machine"} <= set(engine.outbound.outcomes)
    assert outcomes.get(AttemptOutcome.CONNECTED, 0) >= 5
    assert outcomes.get(AttemptOutcome.NO_ANSWER, 0) >= 1 and outcomes.get(AttemptOutcome.BUSY, 0) >= 1
    assert outcomes.get(AttemptOutcome.MACHINE, 0) >= 1
    # The share of live answers among the dials is near the scenario's rate (AMD errors aside).
    live = outcomes.get(AttemptOutcome.CONNECTED, 0) + outcomes.get(AttemptOutcome.ABANDONED, 0)
    assert 0.2 < live / placed < 0.5
    # No lead past its attempt budget, the list has moved, no channel left held after the run.
    assert Lead.objects.filter(lead_list=leads, attempts__gt=2).count() == 0
    progress = imports.progress(leads)
    assert progress["done"] >= 10 and progress["remaining"] < 150
    assert budget.in_use(account.pk) == 0


def test_the_demo_floor_builds_its_campaign_once_and_the_campaign_dials(settings):
    settings.DEBUG = True  # demo mode: the floor plays on the demo account
    ensure_default_plans()  # (a transactional test starts from empty tables)
    load_demo()
    scenario = load(settings.BASE_DIR / "scenarios" / "demo.yaml")
    demo = build_account(scenario, simulation=False)
    campaign = Campaign.objects.get(account=demo, name="Rinnovi demo")
    assert (campaign.state, campaign.mode, campaign.service.name) == (
        CampaignState.RUNNING, CampaignMode.PREDICTIVE, "Vendite demo")
    (lead_list,) = campaign.lead_lists.all()
    assert lead_list.leads.count() == 5000
    assert set(lead_list.leads.first().fields) == {"nome", "piano", "scadenza"} == set(lead_list.custom_fields)
    build_account(scenario, simulation=False)  # make run again: nothing is added twice
    assert Campaign.objects.filter(account=demo).count() == 1 and Lead.objects.filter(
        lead_list__campaign=campaign).count() == 5000

    o = scenario.outbound
    rates = OutboundRates(live=o.live, no_answer=o.no_answer, busy=o.busy, machine=o.machine, invalid=o.invalid)
    engine = Engine(scenario, demo.pk, seed=3, speed="max", hours=0.2, outbound=rates)  # paces the dialer too
    engine.run()
    connected = Attempt.objects.filter(campaign=campaign, outcome=AttemptOutcome.CONNECTED)
    assert connected.count() >= 5
    assert set(connected.values_list("operator__login", flat=True)) <= {f"venditore{i}" for i in range(1, 5)}
    assert imports.progress(lead_list)["done"] >= 10
    assert budget.in_use(demo.pk) == 0
