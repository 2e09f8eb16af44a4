from django.apps import AppConfig


class TxtcrmConfig(AppConfig):
    name = "txtcrm"
    verbose_name = "txtcrm"

    def ready(self) -> None:
        from txtcrm import languages  # noqa: F401  (connects the sign-in receiver)
