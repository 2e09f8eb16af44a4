"""Forms of the inbox: they parse and validate what an agent typed; the use cases in
messaging.conversations decide what happens."""

from datetime import datetime, timedelta
from urllib.parse import urlencode

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from contacts import services as contacts
from contacts import suppression
from messaging import conversations

DEFAULT_FOLDER = "all"
FOLDER_LABELS = {
    "mine": pgettext_lazy("conversations", "Mine"),
    "unassigned": pgettext_lazy("conversations", "Unassigned"),
    "all": pgettext_lazy("conversations", "All"),
    "snoozed": pgettext_lazy("conversations", "Snoozed"),
    "scheduled": pgettext_lazy("conversations", "Scheduled"),
    "closed": pgettext_lazy("conversations", "Closed"),
}


class ListFilters(forms.Form):
    """Which conversations the list shows: folder, search text, tag, page."""

    folder = forms.ChoiceField(
        choices=[(name, FOLDER_LABELS[name]) for name in conversations.FOLDERS], required=False
    )
    q = forms.CharField(required=False, max_length=100, label=_("Search"))
    tag = forms.IntegerField(required=False, min_value=1)
    # Only those overdue against the team's response-time goals (messaging.response_times).
    overdue = forms.BooleanField(required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    @classmethod
    def from_query(cls, query) -> "ListFilters":
        form = cls(query)
        form.is_valid()  # bad values fall back to the defaults below
        return form

    @property
    def folder_name(self) -> str:
        return self.cleaned_data.get("folder") or DEFAULT_FOLDER

    @property
    def text(self) -> str:
        return (self.cleaned_data.get("q") or "").strip()

    @property
    def tag_id(self) -> int | None:
        return self.cleaned_data.get("tag")

    @property
    def overdue_only(self) -> bool:
        return bool(self.cleaned_data.get("overdue"))

    @property
    def page_number(self) -> int:
        return self.cleaned_data.get("page") or 1

    def params(self, **overrides) -> dict[str, str]:
        """The non-default filters as query parameters (to keep them across pages)."""
        values = {
            "folder": self.folder_name if self.folder_name != DEFAULT_FOLDER else "",
            "q": self.text,
            "tag": str(self.tag_id or ""),
            "overdue": "1" if self.overdue_only else "",
            "page": str(self.page_number) if self.page_number > 1 else "",
        }
        values.update({name: str(value) for name, value in overrides.items()})
        return {name: value for name, value in values.items() if value}

    def query(self, **overrides) -> str:
        """`?folder=…&q=…` or "" when every filter is the default."""
        params = self.params(**overrides)
        return f"?{urlencode(params)}" if params else ""


def parse_cursor(raw: str) -> datetime | None:
    """The poll cursor: an ISO 8601 date-time with its offset ("+" may arrive as " ")."""
    try:
        cursor = parse_datetime((raw or "").strip().replace(" ", "+"))
    except ValueError:
        return None
    if cursor is None or timezone.is_naive(cursor):
        return None
    return cursor


def _single_newlines(text: str) -> str:
    # Browsers submit a textarea's line breaks as CRLF but count them as one character;
    # store what the live counter counted.
    return text.replace("\r\n", "\n").replace("\r", "\n")


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply"),
        strip=False,
        max_length=1600,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write a message first.")},
    )
    sender = forms.ChoiceField(label=_("Send as"), required=False, choices=())

    def __init__(self, *args, senders: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sender"].choices = [(sender, sender) for sender in senders]

    def clean_body(self) -> str:
        body = _single_newlines(self.cleaned_data["body"])
        if not body.strip():
            raise forms.ValidationError(_("Write a message first."))
        return body


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Internal note"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("A note needs some text.")},
    )

    def clean_body(self) -> str:
        return _single_newlines(self.cleaned_data["body"])


class AssignForm(forms.Form):
    assignee = forms.IntegerField(required=False, min_value=1)


SNOOZE_CHOICES = {
    "1h": (_("1 hour"), timedelta(hours=1)),
    "4h": (_("4 hours"), timedelta(hours=4)),
    "1d": (_("1 day"), timedelta(days=1)),
    "1w": (_("1 week"), timedelta(weeks=1)),
    "reply": (_("Until they reply"), None),  # their next text wakes it (messaging.writer.touch)
}


class SnoozeForm(forms.Form):
    duration = forms.ChoiceField(
        choices=[(key, label) for key, (label, _delta) in SNOOZE_CHOICES.items()]
    )

    def until(self) -> datetime | None:
        """When it returns; None: when they reply."""
        delta = SNOOZE_CHOICES[self.cleaned_data["duration"]][1]
        return timezone.now() + delta if delta is not None else None


class NewConversationForm(forms.Form):
    number = forms.CharField(
        label=_("Mobile number"),
        max_length=40,
        help_text=_("Any format, e.g. 07911 123456 or +44 7911 123456."),
        error_messages={"required": _("Type the mobile number to text.")},
    )

    def clean_number(self) -> str:
        raw = self.cleaned_data["number"]
        try:
            number = contacts.normalise_number(raw)
        except contacts.ContactInvalid:
            raise forms.ValidationError(
                _(
                    "%(number)s is not a mobile number we can text. Type it with its area "
                    "code, e.g. 07911 123456, or with the country code, e.g. +44 7911 123456."
                ),
                params={"number": repr(raw.strip())},
            ) from None
        if suppression.is_suppressed(number):  # an erased person's (docs/privacy.md)
            raise forms.ValidationError(suppression.refusal(number))
        return number


class ContactSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label=_("Find a contact"))
