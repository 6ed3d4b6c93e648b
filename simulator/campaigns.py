"""Dialer campaigns a scenario declares (the demo floor's outbound campaign): parsed with the scenario,
built once on its account with a generated lead list, and started through the dialer's action. In real time
Celery beat paces them and the simulator plays the far end of every number dialled (simulator/outbound.py);
at max speed the simulator ticks the dialer's loops itself.

    campaigns:
      - {name: Rinnovi demo, service: Vendite demo, mode: progressive, caller_id: "+390255550199",
         leads: 3000, fields: {piano: [Base, Premium]}, all_day: true}

The numbers are made up (a block of Rome numbers, +39 06 4xxxxxxx); `all_day` calls them at any hour, so
the demo moves whenever it runs (a real campaign keeps the default calling hours).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from accounts.models import Account
from dialer import actions as dialer_actions
from dialer.choices import CampaignMode, CampaignState
from dialer.models import WEEKDAYS, Campaign, Lead, LeadList
from routing.models import Service

MAX_LEADS = 50_000
FIRST_NUMBER = 640_000_000  # +39 06 40000000 …


class CampaignSpecError(ValueError):
    pass


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    service: str
    caller_id: str
    mode: str = CampaignMode.PROGRESSIVE
    leads: int = 1000
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column → values, cycled over the leads
    all_day: bool = False


def parse_campaigns(raw: Any, service_names: set[str]) -> tuple[CampaignSpec, ...]:
    specs = []
    for i, c in enumerate(raw or []):
        where = f"campaigns[{i}]"
        if not isinstance(c, dict):
            raise CampaignSpecError(f"{where}: must be a mapping")
        unknown = set(c) - {"name", "service", "caller_id", "mode", "leads", "fields", "all_day"}
        if unknown:
            raise CampaignSpecError(f"{where}: unknown settings {sorted(unknown)}")
        if c.get("service") not in service_names:
            raise CampaignSpecError(f"{where}.service: no service named {c.get('service')!r}")
        mode = c.get("mode", CampaignMode.PROGRESSIVE)
        if mode not in CampaignMode.values:
            raise CampaignSpecError(f"{where}.mode: {mode!r} is not one of {CampaignMode.values}")
        leads = c.get("leads", 1000)
        if not isinstance(leads, int) or not 1 <= leads <= MAX_LEADS:
            raise CampaignSpecError(f"{where}.leads: a whole number from 1 to {MAX_LEADS}")
        fields = c.get("fields") or {}
        if not isinstance(fields, dict) or not all(isinstance(v, list) and v for v in fields.values()):
            raise CampaignSpecError(f"{where}.fields: column → a list of values")
        if not c.get("name") or not c.get("caller_id"):
            raise CampaignSpecError(f"{where}: give a name and a caller_id")
        specs.append(CampaignSpec(name=str(c["name"]), service=str(c["service"]), caller_id=str(c["caller_id"]),
                                  mode=mode, leads=leads, all_day=bool(c.get("all_day", False)),
                                  fields={str(k): tuple(str(x) for x in v) for k, v in fields.items()}))
    return tuple(specs)


@transaction.atomic
def build_campaigns(account: Account, specs: tuple[CampaignSpec, ...], services: dict[str, Service]) -> None:
    """Each campaign the account does not have yet: created, its list filled, started. One it has is left as
    it is (a supervisor may have paused it)."""
    for spec in specs:
        if Campaign.objects.filter(account=account, name=spec.name).exists():
            continue
        campaign = Campaign(account=account, name=spec.name, service=services[spec.service],
                            caller_id=spec.caller_id, mode=spec.mode)
        if spec.all_day:
            campaign.calling_hours = {d: ["00:00", "23:59"] for d in WEEKDAYS}
        campaign.full_clean()
        campaign.save()
        columns = ["nome", *spec.fields]
        leads = LeadList.objects.create(account=account, campaign=campaign, name=f"{spec.name} (lista demo)",
                                        custom_fields=columns)
        Lead.objects.bulk_create([
            Lead(account=account, lead_list=leads, phone=f"+390{FIRST_NUMBER + k}", timezone=account.timezone,
                 fields={"nome": f"Cliente {k + 1}",
                         **{col: values[k % len(values)] for col, values in spec.fields.items()}})
            for k in range(spec.leads)], batch_size=2000)
        dialer_actions.change_campaign_state(campaign.pk, CampaignState.RUNNING, by="demo floor")
