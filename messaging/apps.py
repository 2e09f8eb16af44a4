from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        from messaging import webhook_setup
        from txtcrm import health

        health.register("webhooks", webhook_setup.backlog_check)
