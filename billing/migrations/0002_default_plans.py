from decimal import Decimal

from django.db import migrations

# domain.md, seed 000: Starter 3 channels without extras; the Unlimited plans 80 + $7 per extra channel;
# Unlimited Plus includes 15,000 minutes. Plans are data: admins change them afterwards.
DEFAULT_PLANS = [
    {"code": "starter", "name": "Starter", "included_channels": 3, "extra_channels_allowed": False,
     "extra_channel_price": Decimal("0"), "included_minutes": None},
    {"code": "unlimited-wl", "name": "Unlimited (White Label)", "included_channels": 80,
     "extra_channels_allowed": True, "extra_channel_price": Decimal("7.00"), "included_minutes": None},
    {"code": "unlimited-plus", "name": "Unlimited Plus", "included_channels": 80, "extra_channels_allowed": True,
     "extra_channel_price": Decimal("7.00"), "included_minutes": 15000},
]


def create_default_plans(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for fields in DEFAULT_PLANS:
        Plan.objects.get_or_create(code=fields["code"], defaults=fields)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(create_default_plans, migrations.RunPython.noop)]
