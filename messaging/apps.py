from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        from messaging import receivers, webhook_setup
        from txtcrm import health

        receivers.connect()  # the thread's opt-out / opt-in lines

        health.register("webhooks", webhook_setup.backlog_check)
