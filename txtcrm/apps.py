from django.apps import AppConfig


class TxtcrmConfig(AppConfig):
    name = "txtcrm"
    verbose_name = "txtcrm"
