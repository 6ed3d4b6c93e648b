# The channel budget's models now belong to the budget app (budget 0001 takes them over in the state); their
# tables stay where they are, so this only drops them from billing's state.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0004_invoices'),
        ('budget', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
            migrations.DeleteModel(name='LeaseRepair'),
            migrations.DeleteModel(name='ChannelLease'),
            migrations.DeleteModel(name='LimitRefusal'),
            migrations.DeleteModel(name='ChannelUsage'),
        ]),
    ]
