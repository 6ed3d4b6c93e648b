"""The budget's models and the Plan moved app by state-only migrations: an existing database keeps its rows."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import Account, Plan
from budget.models import ChannelUsage, LimitRefusal

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [("billing", "0004_invoices"), ("budget", None)]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def test_rows_written_before_the_move_are_read_after_it():
    executor = _migrate(BEFORE_THE_MOVE)
    old = executor.loader.project_state([("billing", "0004_invoices"), ("accounts", "0003_engine_url")]).apps
    OldPlan = old.get_model("billing", "Plan")
    plan = OldPlan.objects.create(code="moved", name="Moved", included_channels=4)
    account = old.get_model("accounts", "Account").objects.create(name="Before", slug="before", plan_id=plan.pk)
    old.get_model("billing", "ChannelUsage").objects.create(account_id=account.pk, in_use=2)
    old.get_model("billing", "LimitRefusal").objects.create(account_id=account.pk, limited_by_id=account.pk,
                                                          at="2026-01-01T10:00:00Z", direction="inbound")
    ContentType.objects.get_or_create(app_label="billing", model="channellease")
    ContentType.objects.filter(app_label="budget").delete()

    executor = MigrationExecutor(connection)
    _migrate(executor.loader.graph.leaf_nodes())

    moved = Account.objects.select_related("plan").get(slug="before")
    assert (moved.plan.code, moved.channel_limit) == ("moved", 4)
    assert Plan._meta.db_table == "billing_plan"
    assert ChannelUsage.objects.get(account=moved).in_use == 2
    assert LimitRefusal.objects.filter(account=moved, limited_by=moved).count() == 1
    assert ContentType.objects.filter(app_label="budget", model="channellease").exists()
    assert not ContentType.objects.filter(app_label="billing", model="channellease").exists()
