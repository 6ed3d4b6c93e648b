# The Plan model moves from billing to accounts in the state only: the table (billing_plan) and its rows stay,
# and the account's foreign key keeps pointing at it.

import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    """The plan's content type (its permissions, its admin history) follows the model."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="accounts", model="plan").exists():
        ContentType.objects.filter(app_label="billing", model="plan").update(app_label="accounts")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_engine_url'),
        ('billing', '0005_budget_moved_to_its_app'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
            migrations.CreateModel(
                name='Plan',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('code', models.SlugField(max_length=40, unique=True, verbose_name='code')),
                    ('name', models.CharField(max_length=100, verbose_name='name')),
                    ('monthly_fee', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=10, validators=[django.core.validators.MinValueValidator(Decimal('0'))], verbose_name='monthly fee')),
                    ('currency', models.CharField(choices=[('USD', 'USD'), ('EUR', 'EUR')], default='USD', max_length=3, verbose_name='currency')),
                    ('included_channels', models.PositiveIntegerField(help_text='Real-time capacity: calls handled at the same instant.', verbose_name='concurrent calls included')),
                    ('extra_channels_allowed', models.BooleanField(default=False, verbose_name='extra concurrent calls can be bought')),
                    ('extra_channel_price', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=10, validators=[django.core.validators.MinValueValidator(Decimal('0'))], verbose_name='price of one extra concurrent call')),
                    ('included_minutes', models.PositiveIntegerField(blank=True, help_text='Monthly consumption; empty when the plan states none.', null=True, verbose_name='minutes included per month')),
                    ('overage_rate_per_minute', models.DecimalField(decimal_places=4, default=Decimal('0'), max_digits=10, validators=[django.core.validators.MinValueValidator(Decimal('0'))], verbose_name='price of a minute over the included')),
                    ('billing_first_seconds', models.PositiveSmallIntegerField(default=60, validators=[django.core.validators.MinValueValidator(1)], verbose_name='first billed block (s)')),
                    ('billing_step_seconds', models.PositiveSmallIntegerField(default=60, validators=[django.core.validators.MinValueValidator(1)], verbose_name='then billed in steps of (s)')),
                    ('is_active', models.BooleanField(default=True, verbose_name='on sale')),
                ],
                options={
                    'verbose_name': 'plan',
                    'verbose_name_plural': 'plans',
                    'db_table': 'billing_plan',
                    'ordering': ['included_channels', 'name'],
                },
            ),
            migrations.AlterField(
                model_name='account',
                name='plan',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='accounts', to='accounts.plan', verbose_name='plan'),
            ),
        ]),
        migrations.RunPython(move_content_type, migrations.RunPython.noop),
    ]
