"""The campaign composer's form: it parses and validates what an admin typed into the
fields of a draft Campaign; campaigns.services stores it (create_draft / update_draft) and
does the planning, launching and everything after.

Times are typed in the account's time zone (settings.TIME_ZONE) and stored in UTC.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _

from audiences.models import Segment
from campaigns.models import Campaign, CampaignSettings
from campaigns.rehearsal import MAX_SEED, OPTIONS, options_problem
from contacts.models import Contact, Tag
from messaging.conversations import senders
from messaging.merge import FIELDS as MERGE_FIELDS

MESSAGE_MAX = 1600  # ten GSM-7 SMS, as in the inbox composer
MAX_NUMBERS = 10_000  # typed or pasted numbers; a bigger list belongs in a tag (CSV import)
AUDIENCE_FIELDS = ("any_tags", "all_tags", "excluded_tags", "numbers", "contacts")  # lists
SCHEDULE_CHOICES = [
    ("now", _("As soon as it is launched")),
    ("later", _("At a date and time")),
]
NO_SUCH_TAG = _("There is no tag named “%(value)s” any more.")


def account_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def split_numbers(text: str) -> list[str]:
    """One number per line, as typed (commas and semicolons also separate)."""
    lines = (text or "").replace(",", "\n").replace(";", "\n").splitlines()
    return [line.strip() for line in lines if line.strip()]


class CampaignForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=Campaign._meta.get_field("name").max_length,
        help_text=_("For your team only; recipients never see it."),
        error_messages={"required": _("Give the campaign a name, e.g. “Spring sale”.")},
    )
    sender = forms.ChoiceField(
        label=_("Send from"),
        help_text=_("The sender id or number recipients see."),
        error_messages={
            "required": _("Choose who the SMS is from."),
            "invalid_choice": _("Choose one of your sender ids."),
        },
    )
    template = forms.CharField(
        label=_("Message"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("Write the message to send."),
            "max_length": _(
                "The message can be at most %(limit_value)d characters (it has %(show_value)d)."
            ),
        },
    )
    segment = forms.TypedChoiceField(
        label=_("Contacts in a saved segment"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_(
            "Worked out again when the campaign is launched: whoever is in the segment then "
            "gets it. Tags and numbers below add more people."
        ),
        error_messages={"invalid_choice": _("That segment no longer exists: choose another.")},
    )
    any_tags = forms.MultipleChoiceField(
        label=_("Contacts with any of these tags"),
        required=False,
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
        error_messages={"invalid_choice": NO_SUCH_TAG},
    )
    all_tags = forms.MultipleChoiceField(
        label=_("…and all of these tags"),
        required=False,
        help_text=_("Optional: narrows the selection to contacts that have every one."),
        error_messages={"invalid_choice": NO_SUCH_TAG},
    )
    excluded_tags = forms.MultipleChoiceField(
        label=_("Leave out contacts with these tags"),
        required=False,
        error_messages={"invalid_choice": NO_SUCH_TAG},
    )
    numbers = forms.CharField(
        label=_("Numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "inputmode": "tel", "autocomplete": "off"}),
    )
    contacts = forms.TypedMultipleChoiceField(
        label=_("Contacts chosen one by one"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Untick a contact to leave them out."),
    )
    schedule = forms.ChoiceField(
        label=_("Start"),
        choices=SCHEDULE_CHOICES,
        initial="now",
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose when to send it.")},
    )
    send_date = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    send_time = forms.TimeField(
        label=_("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_start = forms.TimeField(
        label=_("Quiet from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    marketing = forms.BooleanField(
        label=_("Marketing campaign"),
        required=False,
        help_text=_(
            "Promotions and offers. The opt-out footer is added and, if the account asks "
            "for it, only contacts who gave marketing consent get it."
        ),
    )
    frequency_cap_days = forms.IntegerField(
        label=_("Skip contacts sent a campaign within (days)"),
        required=False,
        min_value=0,
        max_value=365,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    skip_open_conversations = forms.BooleanField(
        label=_("Skip contacts in an open conversation"),
        required=False,
        help_text=_("Someone your team is talking to does not get a campaign mid-conversation."),
    )

    def __init__(self, *args, campaign: Campaign | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        if campaign is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(campaign)
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.zone_name = settings.TIME_ZONE
        names = list(Tag.objects.values_list("name", flat=True))
        chosen = campaign.audience if campaign else {}
        for field in ("any_tags", "all_tags", "excluded_tags"):
            known = {name.casefold() for name in names}
            # A draft keeps a tag deleted since, so saving it again is a decision.
            gone = [n for n in chosen.get(field, []) if n.casefold() not in known]
            self.fields[field].choices = [(n, n) for n in [*names, *gone]]
            self.fields[field].widget.attrs["size"] = min(max(len(names), 4), 8)
            # static/js/tag-picker.js makes it a searchable picker with chips
            self.fields[field].widget.attrs["data-tag-picker"] = ""
        self.fields["sender"].choices = [(s, s) for s in senders()]
        self.fields["segment"].choices = [
            ("", _("— none —")),
            *Segment.objects.values_list("pk", "name"),
        ]
        contact_ids = chosen.get("contacts", []) if campaign else []
        people = Contact.objects.filter(pk__in=contact_ids).only("full_name", "mobile_number")
        self.fields["contacts"].choices = [(c.pk, f"{c} ({c.mobile_number})") for c in people]
        region = settings.TXTCRM_DEFAULT_REGION
        self.fields["numbers"].help_text = _(
            "One per line, any format (national numbers are read as %(region)s). "
            "A number of a contact counts as that contact, so their opt-out holds."
        ) % {"region": region}
        self.fields["send_date"].help_text = _("In %(zone)s.") % {"zone": self.zone_name}
        rules = CampaignSettings.current()
        self.fields["frequency_cap_days"].help_text = _(
            "Empty: the account's setting (%(days)s). 0: no cap for this campaign."
        ) % {"days": _("%(n)s days") % {"n": rules.frequency_cap_days}
             if rules.frequency_cap_days else _("no cap")}  # fmt: skip
        # static/js/campaigns.js counts the footer in while "Marketing campaign" is ticked.
        self.fields["template"].widget.attrs.update(
            {"data-counter": "campaign-counter", "maxlength": MESSAGE_MAX,
             "data-footer": rules.opt_out_footer.strip()}
        )  # fmt: skip

    @property
    def merge_fields(self) -> list[str]:
        return list(MERGE_FIELDS)

    @property
    def has_hand_picked_contacts(self) -> bool:
        return bool(self.fields["contacts"].choices)

    @staticmethod
    def initial_for(campaign: Campaign) -> dict:
        audience = campaign.audience or {}
        initial = {
            "name": campaign.name,
            "sender": campaign.sender,
            "template": campaign.template,
            "segment": audience.get("segment"),
            "any_tags": audience.get("any_tags", []),
            "all_tags": audience.get("all_tags", []),
            "excluded_tags": audience.get("excluded_tags", []),
            "numbers": "\n".join(audience.get("numbers", [])),
            "contacts": audience.get("contacts", []),
            "schedule": "later" if campaign.scheduled_at else "now",
            "quiet_start": campaign.quiet_start,
            "quiet_end": campaign.quiet_end,
            "marketing": campaign.marketing,
            "frequency_cap_days": campaign.frequency_cap_days,
            "skip_open_conversations": campaign.skip_open_conversations,
        }
        if campaign.scheduled_at:
            local = campaign.scheduled_at.astimezone(account_zone())
            initial["send_date"], initial["send_time"] = local.date(), local.time()
        return initial

    # --- Validation ---------------------------------------------------------------------

    def clean_numbers(self) -> list[str]:
        numbers = split_numbers(self.cleaned_data["numbers"])
        if len(numbers) > MAX_NUMBERS:
            raise forms.ValidationError(
                _(
                    "That is %(count)s numbers; at most %(max)s can be typed here. "
                    "For more, import them as contacts with a tag and choose the tag."
                )
                % {
                    "count": number_format(len(numbers), force_grouping=True),
                    "max": number_format(MAX_NUMBERS, force_grouping=True),
                }
            )
        return numbers

    def clean(self):
        cleaned = super().clean()
        self._check_audience(cleaned)
        self._check_schedule(cleaned)
        self._check_quiet_hours(cleaned)
        return cleaned

    def _check_audience(self, cleaned: dict) -> None:
        if any(field in self.errors for field in (*AUDIENCE_FIELDS, "segment")):
            return
        selected = {n.casefold() for n in [*cleaned["any_tags"], *cleaned["all_tags"]]}
        both = [n for n in cleaned["excluded_tags"] if n.casefold() in selected]
        chosen = [cleaned.get(f) for f in ("segment", *AUDIENCE_FIELDS) if f != "excluded_tags"]
        if not any(chosen):  # (add_error drops the field from cleaned_data: check it last)
            self.add_error(
                "any_tags",
                _(
                    "Choose who gets this campaign: a segment, at least one tag, or type some "
                    "numbers."
                ),
            )
        elif both:
            self.add_error(
                "excluded_tags",
                _("“%(name)s” is both chosen and left out: remove it from one of the lists.")
                % {"name": both[0]},
            )

    def _check_schedule(self, cleaned: dict) -> None:
        if cleaned.get("schedule") != "later":
            return
        day, at = cleaned.get("send_date"), cleaned.get("send_time")
        if "send_date" in self.errors or "send_time" in self.errors:
            return
        if day is None or at is None:
            field = "send_date" if day is None else "send_time"
            self.add_error(
                field, _("Choose the date and the time to send, or send as soon as launched.")
            )
            return
        when = datetime.combine(day, at, tzinfo=account_zone())
        if when <= timezone.now():
            self.add_error(
                "send_date",
                _(
                    "%(when)s (%(zone)s) has passed: choose a later time, or send as soon as "
                    "launched."
                )
                % {"when": date_format(when, "SHORT_DATETIME_FORMAT"), "zone": self.zone_name},
            )

    def _check_quiet_hours(self, cleaned: dict) -> None:
        if "quiet_start" in self.errors or "quiet_end" in self.errors:
            return
        start, end = cleaned.get("quiet_start"), cleaned.get("quiet_end")
        if (start is None) != (end is None):
            self.add_error(
                "quiet_end" if end is None else "quiet_start",
                _("Give both the start and the end of the quiet hours, or leave both empty."),
            )
        elif start is not None and start == end:
            self.add_error(
                "quiet_end",
                _(
                    "Quiet hours start and end at the same time, which means no quiet hours: "
                    "give an end time, e.g. 21:00 until 08:00, or leave both empty."
                ),
            )

    # --- What the form means --------------------------------------------------------------

    def scheduled_at(self) -> datetime | None:
        data = self.cleaned_data
        if data.get("schedule") != "later" or not (
            data.get("send_date") and data.get("send_time")
        ):
            return None
        return datetime.combine(data["send_date"], data["send_time"], tzinfo=account_zone())

    def audience(self) -> dict:
        """The audience as Campaign.audience stores it, from the valid fields."""
        data = self.cleaned_data
        audience = {field: list(data.get(field) or []) for field in AUDIENCE_FIELDS}
        if data.get("segment"):
            audience["segment"] = data["segment"]
        return audience

    def campaign_fields(self) -> dict:
        data = self.cleaned_data
        quiet = data.get("quiet_start"), data.get("quiet_end")
        if None in quiet or quiet[0] == quiet[1]:
            quiet = (None, None)
        return {
            "name": data.get("name", ""),
            "sender": data.get("sender", ""),
            "template": data.get("template", ""),
            "audience": self.audience(),
            "scheduled_at": self.scheduled_at(),
            "quiet_start": quiet[0],
            "quiet_end": quiet[1],
            "marketing": bool(data.get("marketing")),
            "frequency_cap_days": data.get("frequency_cap_days"),
            "skip_open_conversations": bool(data.get("skip_open_conversations")),
        }

    def unsaved_campaign(self) -> Campaign:
        """The campaign as typed so far, for the live preview: valid fields only, except the
        message, which is previewed as typed (too long or not)."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        fields = self.campaign_fields()
        fields["template"] = self.data.get("template", "")
        return Campaign(**fields)


class CampaignSettingsForm(forms.ModelForm):
    """The account's campaign rules (campaigns.models.CampaignSettings)."""

    class Meta:
        model = CampaignSettings
        fields = ["marketing_needs_consent", "frequency_cap_days", "opt_out_footer"]
        labels = {
            "marketing_needs_consent": _(
                "Marketing campaigns go only to contacts with marketing consent"
            ),
            "frequency_cap_days": _("Skip contacts sent a campaign within (days)"),
            "opt_out_footer": _("Opt-out footer of marketing campaigns"),
        }
        help_texts = {
            "marketing_needs_consent": _(
                "Recommended in the UK (PECR): marketing texts need the person's consent. "
                "Turn off only if you rely on the soft opt-in for existing customers."
            ),
            "frequency_cap_days": _("The default of every campaign; 0: no cap."),
            "opt_out_footer": _(
                "Added on its own line to every marketing text that does not say it already."
            ),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["frequency_cap_days"].max_value = 365
        self.fields["frequency_cap_days"].validators.append(MaxValueValidator(365))

    def clean_opt_out_footer(self) -> str:
        footer = self.cleaned_data["opt_out_footer"].strip()
        if "stop" not in footer.casefold():
            raise forms.ValidationError(
                _("Say how to opt out with STOP, e.g. “Reply STOP to opt out”.")
            )
        return footer


def _percent(label, default: float) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=0, max_value=100, decimal_places=2, initial=default * 100
    )


class RehearsalForm(forms.Form):
    """The rehearsal's simulation options, typed as percentages, with the defaults shown
    (campaigns.OPTIONS); `options()` gives them as the service takes them."""

    failure_percent = _percent(_("Failures (%)"), OPTIONS["failure_rate"])
    reply_percent = _percent(_("Replies (%)"), OPTIONS["reply_rate"])
    opt_out_percent = _percent(_("Opt-outs (%)"), OPTIONS["opt_out_rate"])
    seed = forms.IntegerField(
        label=_("Seed"),
        min_value=0,
        max_value=MAX_SEED,
        initial=OPTIONS["seed"],
        help_text=_("The same seed gives the same outcomes; change it for another draw."),
    )

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            problem = options_problem(self.options())
            if problem:
                self.add_error("opt_out_percent", problem)
        return cleaned

    @staticmethod
    def percents(options: dict) -> dict:
        """The form's values for `options` (to rehearse again with the same ones)."""
        options = {**OPTIONS, **options}
        return {
            "failure_percent": f"{options['failure_rate'] * 100:g}",
            "reply_percent": f"{options['reply_rate'] * 100:g}",
            "opt_out_percent": f"{options['opt_out_rate'] * 100:g}",
            "seed": options["seed"],
        }

    def options(self) -> dict:
        data = self.cleaned_data
        return {
            "failure_rate": float(data["failure_percent"]) / 100,
            "reply_rate": float(data["reply_percent"]) / 100,
            "opt_out_rate": float(data["opt_out_percent"]) / 100,
            "seed": data["seed"],
        }
