from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from campaigns.models import Recipient, RecipientState
        from messaging import reconcile

        # A call in flight has no messages yet: its recipients' counters may be moving.
        reconcile.register_busy(
            lambda: Recipient.objects.filter(
                state=RecipientState.SENDING, contact__isnull=False
            ).values("contact_id")
        )
