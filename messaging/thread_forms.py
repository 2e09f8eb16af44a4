"""Forms of the thread's send later and side-panel contact edit (issue 14): they parse
what an agent typed; messaging.send_later and contacts.services decide what happens."""

from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.forms import TAG_NAME_MAX, split_tags
from messaging import send_later
from messaging.forms import ReplyForm, _single_newlines

# What a browser's datetime-local input sends, read in the current (the user's) time zone.
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class SendLaterForm(ReplyForm):
    """A reply and when to send it: a quick choice (the button pressed), or the time."""

    later = forms.ChoiceField(
        required=False, choices=[(c, c) for c in (*send_later.QUICK_CHOICES, "at")]
    )
    send_at = forms.DateTimeField(required=False, input_formats=LOCAL_FORMATS, label=_("Send at"))

    def clean(self) -> dict:
        cleaned = super().clean()
        choice = cleaned.get("later") or "at"
        if choice != "at":
            cleaned["when"] = send_later.quick_time(choice)
        elif cleaned.get("send_at"):
            cleaned["when"] = cleaned["send_at"]
        elif "send_at" not in self.errors:
            self.add_error("send_at", _("Choose when to send it."))
        return cleaned

    @property
    def when(self) -> datetime:
        return self.cleaned_data["when"]


class EditScheduledForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        strip=False,
        max_length=1600,
        error_messages={"required": _("Write a message first.")},
    )
    send_at = forms.DateTimeField(
        label=_("Send at"),
        input_formats=LOCAL_FORMATS,
        error_messages={"required": _("Choose when to send it.")},
    )

    def clean_body(self) -> str:
        body = _single_newlines(self.cleaned_data["body"])
        if not body.strip():
            raise forms.ValidationError(_("Write a message first."))
        return body


class ContactPanelForm(forms.Form):
    """Name and tags, from the thread's side panel."""

    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1000,
        help_text=_("Separate tags with commas. New tags are created."),
    )

    @staticmethod
    def initial_for(contact, tags) -> dict:
        return {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "tags": ", ".join(tag.name for tag in tags),
        }

    def clean_tags(self) -> list[str]:
        names = split_tags(self.cleaned_data["tags"])
        too_long = [name for name in names if len(name) > TAG_NAME_MAX]
        if too_long:
            raise forms.ValidationError(
                _("Tag names can be at most %(max)s characters; shorten “%(name)s…”.")
                % {"max": TAG_NAME_MAX, "name": too_long[0][:20]}
            )
        return names
