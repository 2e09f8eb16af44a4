from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationsConfig(AppConfig):
    name = "automations"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Automations")

    def ready(self) -> None:
        from automations import receivers

        receivers.connect()
