from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and invitations")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.middleware import stamp_new_session
        from accounts.two_factor import start_session

        user_logged_in.connect(stamp_new_session, dispatch_uid="accounts-stamp-session")
        # A new sign-in owes the second step (docs/security.md, "Two-factor sign-in").
        user_logged_in.connect(start_session, dispatch_uid="accounts-two-factor-step")
