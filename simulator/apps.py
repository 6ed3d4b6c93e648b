from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SimulatorConfig(AppConfig):
    """The call simulator: the top layer. It drives the production ACD through the telephony port, as an engine
    would, and nothing below it imports it."""

    name = "simulator"
    verbose_name = _("Call simulator")
