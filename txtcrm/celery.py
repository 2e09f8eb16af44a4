"""The Celery app. Configuration comes from Django settings (CELERY_*)."""

import logging
import os

from celery import Celery
from celery.app.trace import LOG_RECEIVED, LOG_SUCCESS
from celery.signals import celeryd_after_setup, setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "txtcrm.settings")

app = Celery("txtcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class RoutinePeriodicLines(logging.Filter):
    """Beat's periodic tasks at DEBUG: sent, received and succeeded every few seconds
    (the sandbox's network every 2), they buried everything else at INFO. Their
    failures, retries and own log lines stay; `--loglevel DEBUG` shows the rest."""

    SENT = "Scheduler: Sending due task %s (%s)"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not self._routine(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)

    def _routine(self, record: logging.LogRecord) -> bool:
        if record.msg == self.SENT:
            return True
        if record.msg not in (LOG_RECEIVED, LOG_SUCCESS):
            return False
        from django.conf import settings

        periodic = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        return getattr(record, "data", {}).get("name") in periodic


for _logger in ("celery.beat", "celery.worker.strategy", "celery.app.trace"):
    logging.getLogger(_logger).addFilter(RoutinePeriodicLines())


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
