"""Forms of the contacts pages: they parse and validate input; contacts.services does the rest."""

from django import forms
from django.conf import settings
from django.db.models import F, QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from contacts import segment_hook, services
from contacts.models import (
    CUSTOM_FIELDS,
    FIELD_LABELS,
    TXTSYNC_FIELDS,
    ConsentEvent,
    ConsentSource,
    Contact,
    MarketingConsent,
    SyncState,
    Tag,
)

TAG_NAME_MAX = Tag._meta.get_field("name").max_length


class PageForm(forms.Form):
    """Labels without the trailing colon, as on the rest of the pages."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def split_tags(text: str) -> list[str]:
    """Tag names typed as "VIP, north , Spring 2025" -> ["VIP", "north", "Spring 2025"]."""
    return [name.strip() for name in (text or "").split(",") if name.strip()]


class ContactForm(PageForm):
    """The writable TxtSync fields, tags (comma-separated) and, for a new contact, AllowSMS.

    AllowSMS of an existing contact changes only through the contact page's opt-out
    buttons, so every change has its history (who, when, why).
    """

    def __init__(self, *args, custom_labels: dict[str, str], creating: bool, **kwargs):
        super().__init__(*args, **kwargs)
        # Field types and lengths come from the model, so the two never disagree.
        model_fields = forms.fields_for_model(
            Contact,
            fields=list(TXTSYNC_FIELDS),
            labels={**FIELD_LABELS, **custom_labels},
        )
        region = settings.TXTCRM_DEFAULT_REGION
        # Typed in any format, so longer than the E.164 form stored.
        model_fields["mobile_number"] = forms.CharField(
            label=FIELD_LABELS["mobile_number"],
            max_length=40,
            help_text=_("Any format: national (%(region)s) or international with +country code.")
            % {"region": region},
        )
        self.fields.update(model_fields)
        self.fields["tags"] = forms.CharField(
            required=False,
            label=_("Tags"),
            help_text=_("Separate tags with commas, e.g. VIP, North. New tags are created."),
        )
        if creating:
            self.fields["allow_sms"] = forms.BooleanField(
                label=_("Allow SMS"),
                required=False,
                initial=True,
                help_text=_("Untick if this person has asked not to receive SMS."),
            )
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "contacts-input")
        self.fields["mobile_number"].widget.attrs.update(
            {"inputmode": "tel", "autocomplete": "off"}
        )
        self.fields["email_address"].widget.attrs["autocomplete"] = "off"

    def clean_mobile_number(self) -> str:
        raw = self.cleaned_data["mobile_number"]
        try:
            return services.normalise_number(raw)
        except services.ContactInvalid:
            raise forms.ValidationError(
                _(
                    "%(number)s is not a phone number we can text. Type the full number, "
                    "e.g. 07911 123456, or +44 7911 123456 with the country code."
                ),
                params={"number": repr(raw.strip())},
                code="invalid_number",
            ) from None

    def clean_tags(self) -> list[str]:
        names = split_tags(self.cleaned_data["tags"])
        too_long = [name for name in names if len(name) > TAG_NAME_MAX]
        if too_long:
            raise forms.ValidationError(
                _("Tag names can be at most %(max)s characters; shorten “%(name)s…”.")
                % {"max": TAG_NAME_MAX, "name": too_long[0][:20]}
            )
        return names

    def contact_fields(self, *, changed_only: bool = False) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in TXTSYNC_FIELDS
            if not changed_only or name in self.changed_data
        }

    def show_errors(self, error: services.ContactInvalid) -> None:
        """Put the service's errors next to their fields (the rest at the top)."""
        for field, problem in error.errors.items():
            if field in self.fields:
                self.add_error(field, problem[:1].upper() + problem[1:])
            else:
                self.add_error(None, f"{FIELD_LABELS.get(field, field)}: {problem}")

    @staticmethod
    def initial_for(contact: Contact) -> dict:
        initial = {name: getattr(contact, name) for name in TXTSYNC_FIELDS}
        initial["tags"] = ", ".join(tag.name for tag in contact.tags.all())
        return initial


SORTS = {
    # value: (label, ordering). The pk tie-break keeps pages stable; name and last
    # communication each have an index that the database reads in this order.
    "name": (_("Name, A to Z"), ["search_name", "pk"]),
    "-name": (_("Name, Z to A"), ["-search_name", "-pk"]),
    # Never-contacted contacts go last either way, on every database.
    "-last": (
        _("Last communication, newest first"),
        [F("last_communication_date").desc(nulls_last=True), "-pk"],
    ),
    "last": (
        _("Last communication, oldest first"),
        [F("last_communication_date").asc(nulls_last=True), "pk"],
    ),
    "-rating": (_("OverallRating, highest first"), ["-overall_rating", "-pk"]),
    "rating": (_("OverallRating, lowest first"), ["overall_rating", "pk"]),
}
ALLOW_SMS_CHOICES = [("", _("Any")), ("yes", _("Allowed")), ("no", _("Opted out"))]


class SearchInput(forms.TextInput):
    input_type = "search"


SEARCH_MAX = 200
PARAM_ECHO_MAX = 1000  # characters of an invalid value put back in a link


class ContactFilterForm(PageForm):
    """The list's search, filters and sort, read from GET (list, export) or POST (bulk
    actions).

    A bad value (a search too long, a tag deleted meanwhile, an unknown choice) is a field
    error shown next to its field, and the form then matches NO contact: an export or a
    bulk action "on all matching" must never widen to every contact because a filter
    was dropped (issue 15).
    """

    q = forms.CharField(
        required=False,
        label=_("Search"),
        max_length=SEARCH_MAX,
        error_messages={
            "max_length": _(
                "A search can be at most %(limit_value)d characters (this one has "
                "%(show_value)d); shorten it."
            )
        },
        widget=SearchInput(attrs={"placeholder": _("Name, number, email or reference")}),
    )
    tag = forms.ChoiceField(
        required=False,
        label=_("Tag"),
        error_messages={
            "invalid_choice": _(
                "This tag no longer exists (it may have been deleted or renamed); choose "
                "another tag or Any tag."
            )
        },
    )
    # Saved segments (audiences, through contacts/segment_hook.py).
    segment = forms.ChoiceField(
        required=False,
        label=_("Segment"),
        error_messages={
            "invalid_choice": _(
                "This segment no longer exists (it may have been deleted); choose another "
                "segment or Any segment."
            )
        },
    )
    allow_sms = forms.ChoiceField(required=False, label="AllowSMS", choices=ALLOW_SMS_CHOICES)
    consent = forms.ChoiceField(
        required=False,
        label=_("Marketing consent"),
        choices=[("", _("Any")), *((v, capfirst(label)) for v, label in MarketingConsent.choices)],
    )
    sync = forms.ChoiceField(
        required=False,
        label=_("Sync"),
        choices=[
            ("", _("Any")),
            *((value, capfirst(label)) for value, label in SyncState.choices),
        ],
    )
    sort = forms.ChoiceField(
        required=False,
        label=_("Sort by"),
        choices=[(key, label) for key, (label, _ordering) in SORTS.items()],
    )
    PARAMS = ("q", "tag", "segment", "allow_sms", "consent", "sync", "sort")

    def __init__(self, data, *, tags: list[Tag]):
        super().__init__({k: data.get(k, "") for k in self.PARAMS})
        self.fields["tag"].choices = [("", _("Any tag")), *((str(t.pk), t.name) for t in tags)]
        self.fields["segment"].choices = [
            ("", _("Any segment")),
            *((str(pk), name) for pk, name in segment_hook.choices()),
        ]
        self.segment_q = None
        self.valid = self.is_valid()

    def clean_segment(self) -> str:
        segment = self.cleaned_data["segment"]
        if segment:
            try:
                self.segment_q = segment_hook.segment_q(int(segment))
            except segment_hook.SegmentProblem as problem:
                raise forms.ValidationError(str(problem), code="invalid_segment") from None
        return segment

    def value(self, name: str) -> str:
        return self.cleaned_data.get(name) or ""

    def params(self) -> dict[str, str]:
        """The non-empty parameters, to put back in links and redirects: an invalid one
        as it was given (shortened), so the page it leads to shows its error again."""
        params = {}
        for name in self.PARAMS:
            if name in self.errors:
                params[name] = str(self.data[name])[:PARAM_ECHO_MAX]
            elif self.value(name):
                params[name] = self.value(name)
        return params

    def is_filtered(self) -> bool:
        return not self.valid or any(
            self.value(n) for n in ("q", "tag", "segment", "allow_sms", "consent", "sync")
        )

    def error_text(self) -> str:
        """The errors in one line, each after its field's label, for a message."""
        return " ".join(
            f"{self.fields[name].label}: {' '.join(errors)}"
            for name, errors in self.errors.items()
        )

    def ordering(self) -> list:
        return SORTS[self.value("sort") or "name"][1]

    def contacts(self) -> QuerySet[Contact]:
        """Every contact matching the search and filters (not yet sorted or paged); none
        when a filter is invalid."""
        if not self.valid:
            return Contact.objects.none()
        allow = self.value("allow_sms")
        contacts = services.filtered(
            self.value("q"),
            tag_id=int(self.value("tag")) if self.value("tag") else None,
            allow_sms={"yes": True, "no": False}.get(allow),
            sync_state=self.value("sync") or None,
            marketing_consent=self.value("consent") or None,
        )
        return contacts.filter(self.segment_q) if self.segment_q is not None else contacts


class IdListField(forms.Field):
    """Contact ids from the rows' checkboxes; the view limits them to visible contacts."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        return [int(v) for v in value or [] if str(v).isdigit()]


class BulkTagForm(PageForm):
    """Add or remove one tag on the selected contacts or on all matching the filter."""

    action = forms.ChoiceField(choices=[("add", _("Add tag")), ("remove", _("Remove tag"))])
    tag_name = forms.CharField(
        label=_("Tag"),
        max_length=TAG_NAME_MAX,
        error_messages={"required": _("Type the name of the tag to add or remove.")},
    )
    scope = forms.ChoiceField(
        required=False, choices=[("selected", _("Selected")), ("all", _("All matching"))]
    )
    ids = IdListField(required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") != "all" and not cleaned.get("ids"):
            raise forms.ValidationError(
                _("Select some contacts first, or choose all contacts matching the filter.")
            )
        return cleaned


class TagRenameForm(PageForm):
    name = forms.CharField(label=_("New name"), max_length=TAG_NAME_MAX)

    def __init__(self, *args, tag: Tag, **kwargs):
        super().__init__(*args, **kwargs)
        self.tag = tag

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Tag.objects.filter(name_folded=name.casefold()).exclude(pk=self.tag.pk).first()
        if clash:
            raise forms.ValidationError(
                _(
                    "There is already a tag named “%(name)s”. Choose another name, or "
                    "delete one of the two tags."
                )
                % {"name": clash.name}
            )
        return name


class CustomFieldLabelsForm(PageForm):
    """What this business calls Custom01..Custom05 (blank: the default name)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in CUSTOM_FIELDS:
            self.fields[field] = forms.CharField(
                label=field.capitalize(), required=False, max_length=60
            )


class ConsentForm(PageForm):
    """An agent records marketing consent given or withdrawn, with the wording the person
    agreed to (required when given) and where they gave it."""

    consent = forms.ChoiceField(
        label=_("Marketing consent"),
        choices=[
            (MarketingConsent.GIVEN, _("Given")),
            (MarketingConsent.WITHDRAWN, _("Withdrawn")),
        ],
        widget=forms.RadioSelect,
    )
    source = forms.ChoiceField(
        label=_("How"),
        choices=[
            (ConsentSource.AGENT, _("Told me (phone, in person, email)")),
            (ConsentSource.FORM, _("Signed a form")),
        ],
    )
    wording = forms.CharField(
        label=_("Wording"),
        required=False,
        max_length=ConsentEvent._meta.get_field("wording").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What the person agreed to, word for word (required when consent is given)."),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("consent") == MarketingConsent.GIVEN and not data.get("wording", "").strip():
            self.add_error(
                "wording", _("Write the wording the person agreed to: consent needs it.")
            )
        return data
