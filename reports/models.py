"""The message rollup (docs/reports.md, "Speed"): the report's message counts of whole
past days, so a long period reads a few thousand rows instead of every message. Written
only by reports.rollup; read by reports.figures, which counts live whatever is not
rolled up (today, days not filled yet, days whose messages changed since)."""

from django.conf import settings
from django.db import models


class RolledDay(models.Model):
    """A local day whose messages are in MessageTally and TagTally, counted in `zone` at
    `made_at`, and known unchanged up to `checked_at` (reports.rollup.fill moves it on);
    TagTally by the contacts' tags as they were when tag_links said so."""

    day = models.DateField(primary_key=True)
    zone = models.CharField(max_length=64)
    tag_links = models.CharField(max_length=64)  # reports.figures.tag_links_version
    made_at = models.DateTimeField()
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.day} ({self.zone})"


class MessageTally(models.Model):
    """How many SMS of one local day fell in one hour of the week (reports.figures
    _local_slot), one direction, typed by one person (typist: outbound, not automatic,
    its author; None otherwise). Scheduled and cancelled sends are not counted."""

    day = models.DateField()
    slot = models.PositiveSmallIntegerField()
    direction = models.PositiveSmallIntegerField()
    typist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )  # a person deleted: their messages' author becomes NULL, and so does this
    messages = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="tally_day")]

    def __str__(self) -> str:
        return f"{self.day} slot {self.slot}: {self.messages}"


class TagTally(models.Model):
    """How many SMS of one local day to or from contacts with one tag went one direction,
    typed by one person (as MessageTally). A contact with two tags counts under both."""

    day = models.DateField()
    tag = models.ForeignKey("contacts.Tag", on_delete=models.CASCADE, related_name="+")
    direction = models.PositiveSmallIntegerField()
    typist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    messages = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["day"], name="tag_tally_day")]

    def __str__(self) -> str:
        return f"{self.day} tag {self.tag_id}: {self.messages}"
