"""The report's filters (period, agent) and the response-time goals form."""

from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.people import display_name
from reports.figures import Period

PRESETS = {"7": 7, "30": 30, "90": 90}
DEFAULT_PRESET = "30"
CUSTOM = "custom"
LONGEST_PERIOD = timedelta(days=366)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return display_name(obj)


class ReportFilters(forms.Form):
    """Which period (a preset or from-to, whole days in the site's time zone) and, for
    admins, whose figures. Agents have no agent field: theirs are always their own."""

    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[
            ("7", _("Last 7 days")),
            ("30", _("Last 30 days")),
            ("90", _("Last 90 days")),
            (CUSTOM, _("Custom dates")),
        ],
    )
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    agent = PersonChoiceField(
        label=_("Agent"),
        required=False,
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        empty_label=_("Whole team"),
    )

    def __init__(self, *args, may_pick_agent: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_pick_agent:
            del self.fields["agent"]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("period") != CUSTOM:
            return data
        start, end = data.get("start"), data.get("end")
        if start is None:
            self.add_error("start", _("Choose the first day."))
        if end is None:
            self.add_error("end", _("Choose the last day."))
        if start and end and start > end:
            self.add_error("end", _("The last day cannot be before the first."))
        elif start and end and end - start >= LONGEST_PERIOD:
            self.add_error("end", _("Choose at most 366 days."))
        return data

    @property
    def chosen_period(self) -> Period:
        """The period asked for (call after is_valid())."""
        data = self.cleaned_data
        if data.get("period") == CUSTOM:
            return Period(data["start"], data["end"])
        days = PRESETS[data.get("period") or DEFAULT_PRESET]
        return Period.last_days(days, timezone.localdate())

    @property
    def chosen_agent(self):
        return self.cleaned_data.get("agent")


class GoalsForm(forms.Form):
    first_response_minutes = forms.IntegerField(
        label=_("First response within (minutes)"),
        required=False,
        min_value=1,
        max_value=60 * 24 * 30,
        help_text=_("Empty: no goal."),
    )
    resolution_hours = forms.IntegerField(
        label=_("Resolved within (hours)"),
        required=False,
        min_value=1,
        max_value=24 * 365,
        help_text=_("Optional. Empty: no goal."),
    )
