from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from callcenter.demo import load_demo


class Command(BaseCommand):
    help = ("Load the demo account (idempotent: running it again changes nothing). Only with DEBUG on: it creates "
            "the superuser admin with a published password and a fixed, public API token.")

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("The demo creates a superuser with a published password and a public API token: "
                               "it is loaded only with DEBUG=true (`make run`'s demo mode), never in production.")
        logins = load_demo()
        self.stdout.write(self.style.SUCCESS("Demo account 'Demo Srl' is ready."))
        self.stdout.write(f"  admin (superuser): {logins.admin} / {logins.password}")
        self.stdout.write(f"  supervisor:        {logins.supervisor} / {logins.password}")
        self.stdout.write(f"  operators:         {', '.join(logins.operators)} / {logins.password}")
        self.stdout.write(f"  API token:         {logins.api_token}")
