# The channel budget leaves billing: its four models move here in the state only; the tables keep their names.

import django.db.models.deletion
from django.db import migrations, models

MOVED = ["channelusage", "channellease", "leaserepair", "limitrefusal"]


def move_content_types(apps, schema_editor):
    """The models keep their rows; their content types (and so permissions, admin history) follow them."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label="budget", model=model).exists():
            ContentType.objects.filter(app_label="billing", model=model).update(app_label="budget")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0003_engine_url'),
        ('acd', '0002_budget'),
        ('billing', '0004_invoices'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
            migrations.CreateModel(
                name='ChannelUsage',
                fields=[
                    ('account', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='channel_usage', serialize=False, to='accounts.account')),
                    ('in_use', models.PositiveIntegerField(default=0)),
                ],
                options={
                    'verbose_name': 'channels in use',
                    'verbose_name_plural': 'channels in use',
                    'db_table': 'billing_channelusage',
                },
            ),
            migrations.CreateModel(
                name='ChannelLease',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('direction', models.CharField(max_length=10, verbose_name='kind of call')),
                    ('chain', models.JSONField(help_text='The accounts whose counters this lease holds (itself and resellers).')),
                    ('acquired_at', models.DateTimeField(verbose_name='acquired')),
                    ('expires_at', models.DateTimeField(verbose_name='expires')),
                    ('released_at', models.DateTimeField(blank=True, null=True, verbose_name='released')),
                    ('ended_by', models.CharField(blank=True, choices=[('released', 'Released when the call ended'), ('repaired', 'Freed by the reconciler')], max_length=10, verbose_name='ended by')),
                    ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='leases', to='accounts.account')),
                    ('call', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='lease', to='acd.call')),
                ],
                options={
                    'verbose_name': 'channel lease',
                    'verbose_name_plural': 'channel leases',
                    'db_table': 'billing_channellease',
                    'ordering': ['-acquired_at'],
                },
            ),
            migrations.CreateModel(
                name='LeaseRepair',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('at', models.DateTimeField()),
                    ('reason', models.CharField(max_length=200)),
                    ('lease', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='repairs', to='budget.channellease')),
                ],
                options={
                    'db_table': 'billing_leaserepair',
                    'ordering': ['-at'],
                },
            ),
            migrations.CreateModel(
                name='LimitRefusal',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('at', models.DateTimeField(db_index=True, verbose_name='at')),
                    ('direction', models.CharField(max_length=10, verbose_name='kind of call')),
                    ('call_ref', models.CharField(blank=True, max_length=100, verbose_name='engine call id')),
                    ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='refusals', to='accounts.account')),
                    ('limited_by', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account', verbose_name='limit reached on')),
                ],
                options={
                    'verbose_name': 'refusal (plan limit)',
                    'verbose_name_plural': 'refusals (plan limit)',
                    'db_table': 'billing_limitrefusal',
                    'ordering': ['-at'],
                },
            ),
            migrations.AddIndex(
                model_name='channellease',
                index=models.Index(condition=models.Q(('released_at__isnull', True)), fields=['expires_at'], name='lease_live_idx'),
            ),
        ]),
        migrations.RunPython(move_content_types, migrations.RunPython.noop),
    ]
