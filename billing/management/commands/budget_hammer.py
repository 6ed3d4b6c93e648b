import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Account
from acd.choices import CallState, Direction
from acd.models import Call
from budget import actions as budget
from budget.models import ChannelUsage
from core.clock import now


class Command(BaseCommand):
    help = ("Acquire and release channels as fast as possible on one account, recording the highest "
            "use seen on every account of its chain (the exactness hammer of tests and benchmarks).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--account", required=True, help="account slug")
        parser.add_argument("--attempts", type=int, default=100)
        parser.add_argument("--tag", default="h")

    def handle(self, *args, **options) -> None:
        account = Account.objects.filter(slug=options["account"]).first()
        if account is None:
            raise CommandError(f"No account with slug {options['account']!r}.")
        chain = [link.account_id for link in budget.chain_of(account.pk)]
        acquired = refused = 0
        peak = dict.fromkeys(chain, 0)
        for i in range(options["attempts"]):
            with transaction.atomic():
                call = Call.objects.create(account=account, engine_ref=f"{options['tag']}-{i}",
                                           direction=Direction.SYSTEM, arrived_at=now())
                if budget.acquire(call, Direction.SYSTEM) is not None:
                    refused += 1
                    continue
                acquired += 1
                # We hold these rows locked until commit: what we read is exact.
                for account_id, in_use in ChannelUsage.objects.filter(account_id__in=chain).values_list(
                        "account_id", "in_use"):
                    peak[account_id] = max(peak[account_id], in_use)
            with transaction.atomic():
                Call.objects.filter(pk=call.pk).update(state=CallState.ENDED, ended_at=now())
                budget.release(call.pk)
        self.stdout.write(json.dumps({"acquired": acquired, "refused": refused, "peak": peak}))
