"""Django admin for contacts, tags and custom field labels.

Every change goes through contacts.services, as everywhere else, so it is pushed
to TxtSync and every AllowSMS change keeps its history (source "agent", actor the
admin user). Engagement and sync fields are read-only: only a pull changes them.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from audit.log import contact_target, record
from audit.models import Action
from contacts import services
from contacts.models import (
    ENGAGEMENT_FIELDS,
    TXTSYNC_FIELDS,
    Contact,
    CustomFieldLabel,
    OptOutEvent,
    OptOutSource,
    Suppression,
    SyncCheckpoint,
    Tag,
)

ADMIN_REASON = "changed in the admin"
AUDITED_IDS = 1000  # a bulk action's entry lists at most this many contact ids


def _audit(request, action: Action, contact_ids: list[int]) -> None:
    """One audit entry for an admin-site change to contacts (the admin site's own log
    entries of these are not mirrored: audit/receivers.py)."""
    if not contact_ids:
        return
    if len(contact_ids) == 1:
        target = contact_target(contact_ids[0])
    else:
        target = f"{len(contact_ids)} contacts"
    record(action, request=request, target=target, via="admin site", ids=contact_ids[:AUDITED_IDS])


def _adopt(obj, saved) -> None:
    """Make the admin's unsaved instance the one a service saved (pk, state and all),
    so the rest of the admin's add view (messages, redirect, log) uses it."""
    obj.__dict__.update(saved.__dict__)


class TagActionForm(ActionForm):
    """The action bar's extra box: the tag name for "Add tag…" / "Remove tag…"."""

    tag_name = forms.CharField(
        required=False, max_length=100, label=_("Tag"), help_text=_("for the tag actions")
    )


class OptOutEventInline(admin.TabularInline):
    """Who or what changed AllowSMS: history, never edited."""

    model = OptOutEvent
    fields = ["at", "allow_sms", "source", "actor", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-at", "-pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ContactForm(forms.ModelForm):
    # Any format is accepted and stored as E.164 (the model field holds 16 characters).
    mobile_number = forms.CharField(max_length=40)

    class Meta:
        model = Contact
        fields = [*TXTSYNC_FIELDS, "external_reference", "allow_sms", "tags"]

    def clean_mobile_number(self) -> str:
        try:
            return services.normalise_number(self.cleaned_data["mobile_number"])
        except services.ContactInvalid as error:
            raise forms.ValidationError(error.errors["mobile_number"]) from error

    def clean_external_reference(self):
        return self.cleaned_data.get("external_reference") or None


SYNC_FIELDS = [
    "txtsync_id",
    "sync_state",
    "sync_error",
    "sync_version",
    "pushed_version",
    "next_push_at",
    "last_pulled_at",
]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactForm
    action_form = TagActionForm
    list_display = [
        "name",
        "mobile_number",
        "company_name",
        "allow_sms",
        "overall_rating",
        "sync_state",
        "last_communication_date",
        "tag_names",
    ]
    list_filter = ["allow_sms", "sync_state", "tags"]
    # Searched through services.matching (see get_search_results): name, number in
    # any format, email, external reference.
    search_fields = ["search_name", "mobile_number", "email_address", "external_reference"]
    search_help_text = _("Name, number (any format), email address or external reference.")
    ordering = ["search_name", "pk"]
    show_full_result_count = False  # one COUNT fewer per page at 100k contacts
    list_per_page = 100
    list_select_related = False  # no foreign key is shown; tags are prefetched per page
    autocomplete_fields = ["tags"]
    inlines = [OptOutEventInline]
    readonly_fields = ["uid", "created_at", "updated_at", *ENGAGEMENT_FIELDS, *SYNC_FIELDS]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "mobile_number", "company_name",
                           "email_address", "allow_sms", "tags"]}),
        (_("Address"), {"fields": ["address_line1", "address_line2", "city", "county",
                                   "postcode", "country"]}),
        (_("Custom fields"), {"fields": [f"custom0{n}" for n in range(1, 6)]}),
        (_("Engagement (from TxtSync)"), {"fields": ENGAGEMENT_FIELDS}),
        (_("Sync with TxtSync"), {"fields": ["external_reference", "uid", *SYNC_FIELDS,
                                             "created_at", "updated_at"]}),
    ]  # fmt: skip
    actions = ["opt_out", "opt_in", "push_again", "add_tag", "remove_tag"]

    def get_queryset(self, request) -> QuerySet[Contact]:
        # Deleted contacts waiting for their removal from TxtSync are gone for people.
        return super().get_queryset(request).filter(deleted_at__isnull=True)

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        found = services.matching(search_term).values("pk")
        return queryset.filter(pk__in=found), False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        for field, label in services.custom_field_labels().items():
            if field in form.base_fields:
                form.base_fields[field].label = label
        return form

    @admin.display(description=_("name"), ordering="search_name")
    def name(self, contact: Contact) -> str:
        return contact.full_name or "—"

    @admin.display(description=_("tags"))
    def tag_names(self, contact: Contact) -> str:
        return ", ".join(tag.name for tag in contact.tags.all())

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        changelist.result_list = changelist.result_list.prefetch_related("tags")
        return changelist

    # --- Saving through the services ---------------------------------------------------

    def save_model(self, request, obj: Contact, form, change: bool) -> None:
        data = form.cleaned_data
        editable = [*TXTSYNC_FIELDS, "external_reference"]
        if not change:
            created = services.create_contact(
                {name: data[name] for name in editable if name in data},
                tag_names=[tag.name for tag in data.get("tags", [])],
                allow_sms=data.get("allow_sms", True),
                source=OptOutSource.AGENT,
                actor=request.user,
            )
            _adopt(obj, created)
            return
        allow_sms = data.get("allow_sms", obj.allow_sms)
        changed = [name for name in form.changed_data if name in editable]
        tag_names = [t.name for t in data["tags"]] if "tags" in form.changed_data else None
        # Saving always marks the contact dirty: "Save" also means "push this again".
        services.update_contact(
            obj, {name: data[name] for name in changed}, tag_names=tag_names, actor=request.user
        )
        if "allow_sms" in form.changed_data:
            changed = services.set_allow_sms(
                obj, allow_sms, source=OptOutSource.AGENT, actor=request.user, reason=ADMIN_REASON
            )
            if changed and allow_sms:
                _audit(request, Action.OPT_OUT_OVERRIDE, [obj.pk])

    def save_related(self, request, form, formsets, change: bool) -> None:
        # Tags were saved by save_model through the services; the inline is read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj: Contact) -> None:
        pk = obj.pk  # a contact TxtSync never knew loses it on deletion
        services.delete_contact(obj)
        _audit(request, Action.DELETE, [pk])

    def delete_queryset(self, request, queryset: QuerySet[Contact]) -> None:
        deleted = []
        for contact in queryset.iterator():
            deleted.append(contact.pk)
            services.delete_contact(contact)
        _audit(request, Action.DELETE, deleted)

    # --- Bulk actions ----------------------------------------------------------------------

    def _set_allow_sms(self, request, queryset: QuerySet[Contact], allow_sms: bool) -> int:
        changed = []
        for contact in queryset.exclude(allow_sms=allow_sms).only("pk").iterator():
            if services.set_allow_sms(
                contact,
                allow_sms,
                source=OptOutSource.AGENT,
                actor=request.user,
                reason=f"{'opted in' if allow_sms else 'opted out'} in the admin",
            ):
                changed.append(contact.pk)
        if allow_sms:
            _audit(request, Action.OPT_OUT_OVERRIDE, changed)
        return len(changed)

    @admin.action(description=_("Opt out selected contacts"))
    def opt_out(self, request, queryset: QuerySet[Contact]) -> None:
        changed = self._set_allow_sms(request, queryset, False)
        text = _("Opted out %(count)s contact(s).") % {"count": changed}
        self.message_user(request, text, messages.SUCCESS)

    @admin.action(description=_("Opt back in selected contacts"))
    def opt_in(self, request, queryset: QuerySet[Contact]) -> None:
        changed = self._set_allow_sms(request, queryset, True)
        text = _("Opted in %(count)s contact(s).") % {"count": changed}
        self.message_user(request, text, messages.SUCCESS)

    @admin.action(description=_("Push selected contacts to TxtSync again"))
    def push_again(self, request, queryset: QuerySet[Contact]) -> None:
        count = queryset.count()
        services.mark_dirty(queryset)
        text = _("Queued %(count)s contact(s) for a push.") % {"count": count}
        self.message_user(request, text, messages.SUCCESS)

    def _tag_name(self, request) -> str | None:
        name = request.POST.get("tag_name", "").strip()
        if not name:
            text = _("Type the tag's name in the Tag box next to the action.")
            self.message_user(request, text, messages.ERROR)
            return None
        return name

    @admin.action(description=_("Add tag… (name in the Tag box)"))
    def add_tag(self, request, queryset: QuerySet[Contact]) -> None:
        if (name := self._tag_name(request)) is None:
            return
        tags = services.tags_named([name])
        count = services.add_tags(queryset, tags)
        text = _("Tagged %(count)s contact(s) %(name)s.") % {
            "count": count,
            "name": repr(tags[0].name),
        }
        self.message_user(request, text)

    @admin.action(description=_("Remove tag… (name in the Tag box)"))
    def remove_tag(self, request, queryset: QuerySet[Contact]) -> None:
        if (name := self._tag_name(request)) is None:
            return
        tag = Tag.objects.filter(name_folded=name.casefold()).first()
        if tag is None:
            text = _("There is no tag named %(name)s.") % {"name": repr(name)}
            self.message_user(request, text, messages.WARNING)
            return
        count = services.remove_tags(queryset, [tag])
        text = _("Removed %(name)s from %(count)s contact(s).") % {
            "name": repr(tag.name),
            "count": count,
        }
        self.message_user(request, text)


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["name"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Tag.objects.filter(name_folded=name.casefold())
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(
                _("A tag named %(name)s already exists.") % {"name": repr(name)}
            )
        return name


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    form = TagForm
    list_display = ["name", "contact_count", "created_at"]
    search_fields = ["name_folded"]
    ordering = ["name_folded"]

    def get_queryset(self, request) -> QuerySet[Tag]:
        return (
            super()
            .get_queryset(request)
            .annotate(contact_count=Count("contacts", filter=Q(contacts__deleted_at__isnull=True)))
        )

    def get_search_results(self, request, queryset, search_term):
        # Tags are matched case-insensitively by their folded name.
        return super().get_search_results(request, queryset, search_term.casefold())

    @admin.display(description=_("contacts"), ordering="contact_count")
    def contact_count(self, tag: Tag) -> int:
        return tag.contact_count

    def save_model(self, request, obj: Tag, form, change: bool) -> None:
        if change:
            services.rename_tag(obj, form.cleaned_data["name"])
        else:
            _adopt(obj, services.tags_named([form.cleaned_data["name"]])[0])

    def delete_model(self, request, obj: Tag) -> None:
        services.delete_tag(obj)
        record(Action.DELETE, request=request, target=f"tag {obj.name}", via="admin site")

    def delete_queryset(self, request, queryset: QuerySet[Tag]) -> None:
        for tag in queryset:
            services.delete_tag(tag)
            record(Action.DELETE, request=request, target=f"tag {tag.name}", via="admin site")


@admin.register(CustomFieldLabel)
class CustomFieldLabelAdmin(admin.ModelAdmin):
    list_display = ["field", "label"]
    ordering = ["field"]


@admin.register(SyncCheckpoint)
class SyncCheckpointAdmin(admin.ModelAdmin):
    """When each periodic sync job last completed or failed, and why (read-only)."""

    list_display = ["name", "at", "failures", "failed_at", "retry_at", "last_error"]
    readonly_fields = list_display

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Erased people's numbers, as keyed hashes (docs/privacy.md). Read-only; deleting an
    entry lifts the suppression (the person asked to hear from the business again), and
    is audited. Find one by the hash prefix of its erasure's audit entry."""

    list_display = ["number_hash", "reason", "created_at"]
    readonly_fields = list_display
    search_fields = ["number_hash"]

    def get_search_results(self, request, queryset, search_term):
        return queryset.filter(number_hash__startswith=search_term.strip().lower()), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj) -> None:
        self.delete_queryset(request, Suppression.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset) -> None:
        for entry in queryset:
            record(Action.DELETE, request=request, target=f"suppression {entry}")
        queryset.delete()
