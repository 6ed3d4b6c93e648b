import time

from django.core.management.base import BaseCommand

from acd.actions import sweep
from billing.budget import reconcile

RECONCILE_EVERY = 60.0


class Command(BaseCommand):
    help = ("Run the ACD's timers (offer expiry, wrap-up end, maximum wait) every second and the channel-lease "
            "reconciler every minute. Celery beat does this when Redis is configured; `make run` uses this "
            "command in embedded mode.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args, **options) -> None:
        last_reconcile = 0.0
        while True:
            sweep()
            if time.monotonic() - last_reconcile >= RECONCILE_EVERY:
                reconcile()
                last_reconcile = time.monotonic()
            time.sleep(options["interval"])
