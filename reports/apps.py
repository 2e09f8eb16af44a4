from django.apps import AppConfig
from django.db.models.signals import post_delete
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Team report")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from messaging.models import Message
        from reports.rollup import forget_deleted

        # A deleted message's day is counted live again until the rollup recounts it.
        post_delete.connect(forget_deleted, sender=Message, dispatch_uid="reports-rollup")
