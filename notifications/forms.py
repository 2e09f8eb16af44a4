"""The preferences form: for each kind, browser / e-mail / sound (in-app is always on)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import Email, Kind


class PreferencesForm(forms.Form):
    def __init__(self, *args, initial_choices: dict[str, dict], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in Kind:
            chosen = initial_choices[kind.value]
            self.fields[f"{kind.value}-browser"] = forms.BooleanField(
                label=_("Browser"), required=False, initial=chosen["browser"]
            )
            self.fields[f"{kind.value}-email"] = forms.ChoiceField(
                label=_("E-mail"), choices=Email.choices, required=False, initial=chosen["email"]
            )
            self.fields[f"{kind.value}-sound"] = forms.BooleanField(
                label=_("Sound"), required=False, initial=chosen["sound"]
            )

    def rows(self) -> list[dict]:
        """One row per kind, for the table."""
        return [
            {
                "kind": kind.value,
                "label": kind.label,
                "browser": self[f"{kind.value}-browser"],
                "email": self[f"{kind.value}-email"],
                "sound": self[f"{kind.value}-sound"],
            }
            for kind in Kind
        ]

    def choices(self) -> dict[str, dict]:
        data = self.cleaned_data
        return {
            kind: {
                "browser": data[f"{kind}-browser"],
                "email": data[f"{kind}-email"],
                "sound": data[f"{kind}-sound"],
            }
            for kind in Kind.values
        }
