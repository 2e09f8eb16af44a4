from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AudiencesConfig(AppConfig):
    name = "audiences"
    verbose_name = _("Segments")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # contacts sits below audiences, so the segments filter reaches it through a hook.
        from audiences.segments import ContactsProvider
        from contacts import segment_hook

        segment_hook.register(ContactsProvider())
