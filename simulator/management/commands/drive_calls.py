import json

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from simulator.loaddriver import drive_calls


class Command(BaseCommand):
    help = "Place N calls through the real telephony port as fast as possible (load and race runs)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--account", required=True, help="account slug")
        parser.add_argument("--number", required=True, help="the number dialled (E.164)")
        parser.add_argument("--calls", type=int, default=100)
        parser.add_argument("--tag", default="")

    def handle(self, *args, **options) -> None:
        account = Account.objects.filter(slug=options["account"]).first()
        if account is None:
            raise CommandError(f"No account with slug {options['account']!r}.")
        if options["calls"] < 1:
            raise CommandError("--calls must be at least 1.")
        result = drive_calls(account.pk, options["number"], options["calls"], tag=options["tag"])
        self.stdout.write(json.dumps({"calls": result.calls, "rang": result.rang, "queued": result.queued}))
