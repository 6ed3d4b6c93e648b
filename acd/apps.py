from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AcdConfig(AppConfig):
    name = "acd"
    verbose_name = _("Calls (ACD)")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (dispatch waiting calls when an operator becomes ready)
