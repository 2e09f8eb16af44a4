"""The Celery app. Configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import celeryd_after_setup, setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "txtcrm.settings")

app = Celery("txtcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@celeryd_after_setup.connect
def consume_prefixed_queues(sender, instance, **kwargs) -> None:
    from django.conf import settings

    from txtcrm.queues import prefix_consumed

    prefix_consumed(instance.app.amqp.queues, settings.CELERY_QUEUE_PREFIX)


if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
    # Celery would install its own (plain) handlers; with JSON logs, workers and beat
    # log through settings.LOGGING like the web server: one format, secrets redacted.
    @setup_logging.connect
    def use_django_logging(**kwargs) -> None:
        from logging.config import dictConfig

        from django.conf import settings

        dictConfig(settings.LOGGING)
