"""`manage.py createsupervisor <account slug> <username>`: a staff user who runs one account."""

from __future__ import annotations

import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.actions import create_supervisor
from accounts.models import Account


class Command(BaseCommand):
    help = ("Create a supervisor of an account (staff, in the Supervisors group, scoped to the account). "
            "The password comes from --password, $SUPERVISOR_PASSWORD or a prompt.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("account", help="the account's short name (slug)")
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default=None)

    def handle(self, *args, **options) -> None:
        account = Account.objects.filter(slug=options["account"]).first()
        if account is None:
            raise CommandError(f"No account with the short name {options['account']!r}.")
        username = options["username"].strip()
        if not username:
            raise CommandError("The username cannot be empty.")
        if get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        password = options["password"] or os.environ.get("SUPERVISOR_PASSWORD") or ""
        if not password:
            if not options.get("interactive", True) or not os.isatty(0):
                raise CommandError("Give a password with --password or $SUPERVISOR_PASSWORD.")
            password = getpass.getpass("Password: ")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from exc
        member = create_supervisor(account, username, password, email=options["email"])
        self.stdout.write(self.style.SUCCESS(f"{member.user.username} now supervises {account.name}."))
