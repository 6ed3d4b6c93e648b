import time

from django.core.management.base import BaseCommand

from acd.actions import sweep


class Command(BaseCommand):
    help = ("Run the ACD's timers (offer expiry, wrap-up end, maximum wait) every second. Celery beat does "
            "this when Redis is configured; `make run` uses this in embedded mode.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args, **options) -> None:
        while True:
            sweep()
            time.sleep(options["interval"])
