# The Plan model now belongs to accounts (accounts 0004 takes it over in the state); its table stays.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_plan_moved_here'),
        ('billing', '0005_budget_moved_to_its_app'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
            migrations.DeleteModel(name='Plan'),
        ]),
    ]
