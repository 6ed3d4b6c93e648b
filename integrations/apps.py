from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core import outgoing


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Outgoing events")

    def ready(self) -> None:
        from . import outbox  # the models are loaded only now

        outgoing.register(outbox.record)
