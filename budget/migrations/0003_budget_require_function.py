"""`budget_require(ok)`: the commit-time acquire's guard (`budget.actions.acquire_at_commit`). It raises
SQLSTATE CB001 when the channel a probe found free is gone by the COMMIT, which aborts the transaction."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION budget_require(ok boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'no channel left at commit' USING ERRCODE = 'CB001';
    END IF;
    RETURN true;
END $$"""


class Migration(migrations.Migration):

    dependencies = [
        ("budget", "0002_lease_alive_at"),
    ]

    operations = [
        migrations.RunSQL(CREATE, "DROP FUNCTION IF EXISTS budget_require(boolean)"),
    ]
