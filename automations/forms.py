"""Forms of Settings -> Automations: they parse and check what an admin types;
automations.services saves it."""

import itertools
import re
from datetime import date, time

from django import forms
from django.contrib.auth import get_user_model
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from accounts.people import display_name
from automations import rules
from automations.models import Assignment, KeywordRule, Match
from contacts.models import Tag
from messaging.conversations import MAX_SEGMENTS
from messaging.keywords import is_keyword
from messaging.merge import unknown_fields
from txtsync.segments import count_segments

RANGE = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*[-\u2013\u2014]\s*(\d{1,2})(?:[:.](\d{2}))?")
HOLIDAY = re.compile(r"(\d{4}-\d{1,2}-\d{1,2})\s*(.*)")
REPLY_HELP = _("Merge fields work here, e.g. {FirstName|there}.")


class PageForm(forms.Form):
    """Labels without the trailing colon, as on the rest of the pages."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        return display_name(user)


class UsersChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user) -> str:
        return display_name(user)


def active_users():
    return get_user_model().objects.filter(is_active=True).order_by("username")


def _time(hour: str, minute: str | None, *, end: bool) -> time | None:
    h, m = int(hour), int(minute or 0)
    if end and (h, m) == (24, 0):
        return rules.MIDNIGHT
    if h > 23 or m > 59:
        return None
    return time(h, m)


def parse_ranges(text: str) -> list[rules.Range]:
    """ "09:00-12:30, 13:30-17:00" -> ranges; "" -> closed. Raises ValidationError."""
    ranges = []
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        found = RANGE.fullmatch(part)
        start = found and _time(found[1], found[2], end=False)
        end = found and _time(found[3], found[4], end=True)
        if start is None or end is None or not found:
            raise forms.ValidationError(
                _("“%(range)s” is not a time range like 09:00-17:30.") % {"range": part}
            )
        if end != rules.MIDNIGHT and end <= start:
            raise forms.ValidationError(
                _("“%(range)s” ends before it starts: one day's range, e.g. 18:00-24:00.")
                % {"range": part}
            )
        ranges.append(rules.Range(start, end))
    ranges.sort(key=lambda r: r.start)
    for before, after in itertools.pairwise(ranges):
        if before.end == rules.MIDNIGHT or before.end > after.start:
            raise forms.ValidationError(_("These ranges overlap."))
    return ranges


def format_ranges(ranges: list[rules.Range]) -> str:
    def end(r: rules.Range) -> str:
        return "24:00" if r.end == rules.MIDNIGHT else f"{r.end:%H:%M}"

    return ", ".join(f"{r.start:%H:%M}-{end(r)}" for r in ranges)


def parse_holidays(text: str) -> list[tuple[date, str]]:
    """One a line: "2026-12-25 Christmas" (the name is optional)."""
    holidays: dict[date, str] = {}
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        found = HOLIDAY.fullmatch(line)
        try:
            day = date(*map(int, found[1].split("-"))) if found else None
        except ValueError:
            day = None
        if day is None:
            raise forms.ValidationError(
                _("“%(line)s” does not start with a date like 2026-12-25.") % {"line": line}
            )
        holidays[day] = found[2].strip()[:100]
    return sorted(holidays.items())


def check_reply(text: str) -> None:
    unknown = unknown_fields(text)
    if unknown:
        raise forms.ValidationError(
            _("Unknown merge fields: %(names)s.") % {"names": ", ".join(unknown)}
        )
    segments = count_segments(text).segments
    if segments > MAX_SEGMENTS:
        raise forms.ValidationError(
            _("The message is %(segments)s SMS long; the most is %(max)s.")
            % {"segments": segments, "max": MAX_SEGMENTS}
        )


class SettingsForm(PageForm):
    """Business hours, holidays, away and welcome replies, auto-assignment."""

    holidays = forms.CharField(
        label=_("Holidays"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Closed all day. One a line: a date, then a name if you like, e.g. "
                    "2026-12-25 Christmas."),
    )  # fmt: skip
    away_enabled = forms.BooleanField(label=_("Send the away reply outside business hours"),
                                      required=False)  # fmt: skip
    away_text = forms.CharField(
        label=_("Away reply"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=REPLY_HELP,
    )  # fmt: skip
    welcome_enabled = forms.BooleanField(
        label=_("Send the welcome reply to someone texting for the first time"), required=False
    )
    welcome_text = forms.CharField(
        label=_("Welcome reply"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=REPLY_HELP,
    )  # fmt: skip
    assignment = forms.ChoiceField(
        label=_("Assign new conversations"), choices=Assignment.choices, widget=forms.RadioSelect
    )
    available = UsersChoice(
        label=_("Available for conversations in turn"),
        queryset=active_users(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Round-robin gives unassigned conversations to these people in turn."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["available"].queryset = active_users()
        days = {
            f"hours_{day}": forms.CharField(
                label=WEEKDAYS[day],
                required=False,
                max_length=200,
            )
            for day in range(7)
        }
        self.fields = {**days, **self.fields}
        for day in range(7):
            self.fields[f"hours_{day}"].validators.append(parse_ranges)

    def clean(self) -> dict:
        data = super().clean()
        for kind in ("away", "welcome"):
            text = (data.get(f"{kind}_text") or "").strip()
            if text:
                try:
                    check_reply(text)
                except forms.ValidationError as error:
                    self.add_error(f"{kind}_text", error)
            elif data.get(f"{kind}_enabled"):
                self.add_error(f"{kind}_text", _("Write the reply to send, or turn it off."))
        weekly = self.weekly() if not self.errors else {}
        if data.get("away_enabled") and not self.errors and not any(weekly.values()):
            self.add_error(
                "away_enabled",
                _("Set your business hours first: the away reply goes outside them."),
            )
        return data

    def weekly(self) -> dict[int, list[rules.Range]]:
        return {day: parse_ranges(self.cleaned_data.get(f"hours_{day}") or "") for day in range(7)}

    def clean_holidays(self) -> str:
        parse_holidays(self.cleaned_data["holidays"])
        return self.cleaned_data["holidays"]


class RuleForm(forms.ModelForm):
    """A keyword rule; its tag typed by name (made if new)."""

    tag_name = forms.CharField(
        label=_("Add the tag"), required=False, max_length=Tag._meta.get_field("name").max_length,
        help_text=_("Any tag name; a new one is made."),
    )  # fmt: skip
    assign_to = UserChoice(
        label=_("Assign to"), queryset=active_users(), required=False,
        help_text=_("Only when the conversation has nobody yet."),
    )  # fmt: skip

    class Meta:
        model = KeywordRule
        fields = [
            "match", "text", "reply", "tag_name", "assign_to", "marketing_consent", "enabled",
            "position",
        ]  # fmt: skip
        widgets = {
            "match": forms.RadioSelect,
            "reply": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "text": _("Any case; spaces and a final . ! or ? are ignored."),
            "reply": REPLY_HELP,
            "position": _(
                "Rules are tried from the lowest number; the first that matches applies."
            ),
            "marketing_consent": _(
                "Keyword opt-in, e.g. JOIN: the reply is the confirmation and, with the text, "
                "the wording recorded. Never for an opted-out contact until they text START."
            ),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["assign_to"].queryset = active_users()
        self.fields["match"].choices = Match.choices
        if self.instance.tag_id:
            self.fields["tag_name"].initial = self.instance.tag.name

    def clean_text(self) -> str:
        text = " ".join(self.cleaned_data["text"].split())
        if not rules.normalised(text):
            raise forms.ValidationError(_("Write the word or words to look for."))
        if is_keyword(text):
            raise forms.ValidationError(
                _("%(text)s is an opt-out or opt-in keyword: automations never answer it.")
                % {"text": text}
            )
        return text

    def clean_reply(self) -> str:
        reply = self.cleaned_data["reply"].strip()
        if reply:
            check_reply(reply)
        return reply

    def clean(self) -> dict:
        data = super().clean()
        if data.get("marketing_consent") == rules.OPT_IN and not data.get("reply"):
            self.add_error(
                "reply",
                _("Write the confirmation: what they agree to and how to stop (reply STOP)."),
            )
        if not self.errors and not (
            data.get("reply")
            or (data.get("tag_name") or "").strip()
            or data.get("assign_to")
            or data.get("marketing_consent")
        ):
            raise forms.ValidationError(
                _("Choose what the rule does: a reply, a tag, an assignee or consent.")
            )
        return data


class RouteForm(PageForm):
    tag = forms.ModelChoiceField(label=_("Contacts tagged"), queryset=Tag.objects.none())
    user = UserChoice(label=_("go to"), queryset=active_users())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].queryset = Tag.objects.order_by("name_folded")
        self.fields["user"].queryset = active_users()
