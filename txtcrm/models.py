from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CallBudgetState(models.Model):
    """The embedded store of the call budget: one row per TxtSync connection."""

    key = models.CharField(max_length=200, primary_key=True)
    state = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key


class UserPreference(models.Model):
    """What a user chose for themselves (docs/user-guide.md, "Languages"); no row: defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference"
    )
    # One of settings.LANGUAGES (checked by the profile form, so adding a language needs
    # no migration); blank: the browser's language (Accept-Language), else LANGUAGE_CODE.
    language = models.CharField(_("language"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.language or 'browser default'}"
