"""The Celery app. Configuration comes from Django settings (CELERY_*)."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "txtcrm.settings")

app = Celery("txtcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def ensure_broker_folders() -> None:
    """kombu's filesystem transport needs its folders to exist before it starts."""
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        folder = app.conf.broker_transport_options.get(key)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
