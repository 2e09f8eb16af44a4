from django.db import models


class CallBudgetState(models.Model):
    """The embedded store of the call budget: one row per TxtSync connection."""

    key = models.CharField(max_length=200, primary_key=True)
    state = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key
