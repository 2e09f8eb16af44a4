"""Saved segments: a name and conditions over contacts (docs/segments.md).

The conditions are JSON in the shape audiences.conditions documents and validates; they
are compiled to one query there, so the rule of what a condition means lives in one place.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Segment(models.Model):
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    conditions = models.JSONField(default=dict)  # audiences.conditions: version 1
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="segments",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name
