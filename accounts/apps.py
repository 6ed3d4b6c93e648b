from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import receivers
        from .api import schema  # noqa: F401  (registers the OpenAPI auth extension)

        # Once, after the last app's permissions exist (auth creates them on post_migrate too).
        post_migrate.connect(receivers.refresh_supervisor_group, dispatch_uid="accounts.supervisor_group")
