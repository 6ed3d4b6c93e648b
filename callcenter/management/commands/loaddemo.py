from django.core.management.base import BaseCommand

from callcenter.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo account (idempotent: running it again changes nothing)."

    def handle(self, *args, **options) -> None:
        logins = load_demo()
        self.stdout.write(self.style.SUCCESS("Demo account 'Demo Srl' is ready."))
        self.stdout.write(f"  admin (superuser): {logins.admin} / {logins.password}")
        self.stdout.write(f"  supervisor:        {logins.supervisor} / {logins.password}")
        self.stdout.write(f"  operators:         {', '.join(logins.operators)} / {logins.password}")
        self.stdout.write(f"  API token:         {logins.api_token}")
