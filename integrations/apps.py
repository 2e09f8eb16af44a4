from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Integrations"

    def ready(self) -> None:
        from integrations import receivers

        receivers.connect()
