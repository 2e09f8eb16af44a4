"""The message rollup (docs/reports.md, "Speed"): the report's message counts of whole
past days, so a long period reads a few thousand rows instead of every message. Written
only by reports.rollup; read by reports.figures, which counts live whatever is not
rolled up (today, days not filled yet, days whose messages changed since)."""

from django.conf import settings
from django.db import models


class RolledDay(models.Model):
    """A local day whose messages are in MessageTally, counted in `zone` at `made_at`,
    and known unchanged up to `checked_at` (reports.rollup.fill moves it on)."""

    day = models.DateField(primary_key=True)
    zone = models.CharField(max_length=64)
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
