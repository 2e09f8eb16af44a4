"""Automations' settings (business hours, holidays, away and welcome replies, keyword
rules, auto-assignment, who is available) and what they did, per message (`Applied`: the
record that makes applying an event twice harmless, and the cooldowns' history).
docs/automations.md explains them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from automations import rules


class Assignment(models.TextChoices):
    OFF = rules.OFF, _("Off: conversations stay unassigned")
    ROUND_ROBIN = rules.ROUND_ROBIN, _("In turn among available people (round-robin)")
    BY_TAG = rules.BY_TAG, _("By the contact's tag")


class AutomationSettings(models.Model):
    """One row (pk 1): the away and welcome replies and the auto-assignment mode. Read
    without creating it (a page's GET writes nothing): `current()`."""

    away_enabled = models.BooleanField(_("send the away reply"), default=False)
    away_text = models.TextField(_("away reply"), blank=True)
    welcome_enabled = models.BooleanField(_("send the welcome reply"), default=False)
    welcome_text = models.TextField(_("welcome reply"), blank=True)
    assignment = models.CharField(
        _("auto-assignment"), max_length=16, choices=Assignment.choices, default=Assignment.OFF
    )
    last_in_turn = models.IntegerField(null=True, blank=True)  # round-robin's last user id
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("automation settings")
        verbose_name_plural = _("automation settings")

    def __str__(self) -> str:
        return "Automation settings"

    @classmethod
    def current(cls) -> "AutomationSettings":
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class OpeningHours(models.Model):
    """One range of business hours on a weekday (several per day allowed); a weekday
    without any is closed. `end` 00:00 means midnight at the end of the day."""

    weekday = models.PositiveSmallIntegerField()  # Monday 0 ... Sunday 6
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")

    def __str__(self) -> str:
        return f"{self.weekday}: {self.start:%H:%M}-{self.end:%H:%M}"


class Holiday(models.Model):
    """A closed day (in the account's time zone), whatever its weekday's hours."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class Match(models.TextChoices):
    EQUALS = rules.EQUALS, _("The text is")
    CONTAINS = rules.CONTAINS, _("The text contains")


class ConsentChange(models.TextChoices):
    NONE = "", _("Nothing")
    OPT_IN = rules.OPT_IN, _("Opt in to marketing: record consent, the reply confirms it")
    OPT_OUT = rules.OPT_OUT, _("Opt out of marketing: record consent withdrawn")


class KeywordRule(models.Model):
    """A text equal to, or containing, `text` (any case, trimmed) -> a reply, a tag, an
    assignee, a change of marketing consent (keyword opt-in, e.g. JOIN). The first
    enabled rule that matches, by `position`, applies."""

    position = models.PositiveIntegerField(_("order"), default=0)
    match = models.CharField(_("match"), max_length=8, choices=Match.choices, default=Match.EQUALS)
    text = models.CharField(pgettext_lazy("keyword rule", "keyword"), max_length=160)
    reply = models.TextField(_("reply"), blank=True)
    tag = models.ForeignKey(
        "contacts.Tag", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("add the tag"),
    )  # fmt: skip
    assign_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("assign to"),
    )  # fmt: skip
    marketing_consent = models.CharField(
        _("marketing consent"), max_length=9, choices=ConsentChange.choices, blank=True,
        default=ConsentChange.NONE,
    )  # fmt: skip
    enabled = models.BooleanField(_("on"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("keyword rule")
        verbose_name_plural = _("keyword rules")

    def __str__(self) -> str:
        return f"{self.get_match_display()} “{self.text}”"


class TagRoute(models.Model):
    """Auto-assignment by tag: a contact with `tag` -> `user` (the first route, by
    `position`, whose tag the contact has)."""

    position = models.PositiveIntegerField(_("order"), default=0)
    tag = models.ForeignKey("contacts.Tag", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["tag"], name="automations_one_route_a_tag")]
        verbose_name = _("assignment by tag")
        verbose_name_plural = _("assignments by tag")

    def __str__(self) -> str:
        return f"{self.tag} -> {self.user}"


class Availability(models.Model):
    """Whether a user takes conversations in turn (round-robin). No row: available."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    available = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("availability")
        verbose_name_plural = _("availability")

    def __str__(self) -> str:
        return f"{self.user}: {'available' if self.available else 'away'}"


class Applied(models.Model):
    """What the automations did about one inbound message: one row per action, unique
    per (message, key), so applying the same event twice does nothing the second time.
    Reply rows are also the cooldowns' history (`cooldown_key`, `created_at`)."""

    message = models.ForeignKey("messaging.Message", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=40)  # "reply", "tag:<id>", "assign", "consent"
    cooldown_key = models.CharField(max_length=40, blank=True)  # "away", "keyword:<id>"...
    rule = models.ForeignKey(KeywordRule, on_delete=models.SET_NULL, null=True, blank=True)
    sent = models.ForeignKey(
        "messaging.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )  # the automatic reply
    detail = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "key"], name="automations_once_a_message")
        ]
        indexes = [models.Index(fields=["contact", "cooldown_key", "created_at"])]
        verbose_name = _("automatic action")
        verbose_name_plural = _("automatic actions")

    def __str__(self) -> str:
        return f"{self.key} for message {self.message_id}"
