"""Django admin for campaigns: read-mostly. A campaign changes only through
campaigns.services (the pages or the API), so its recipients and calls always match
what was launched; the admin shows them and offers pause / resume / cancel."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from campaigns import services
from campaigns.models import Campaign, CampaignCall, Recipient


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False  # one COUNT fewer per page on big tables
    list_per_page = 100

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ["name", "status", "sender", "scheduled_at", "launched_at", "finished_at",
                    "planned_calls", "used_calls", "created_by"]  # fmt: skip
    list_filter = ["status"]
    list_select_related = ["created_by"]
    search_fields = ["name"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    readonly_fields = [field.name for field in Campaign._meta.fields]
    actions = ["pause", "resume", "cancel"]

    def _apply(self, request, queryset: QuerySet[Campaign], change, done: str) -> None:
        """`change` each campaign; `done` says how many changed (its %(count)s)."""
        changed = 0
        for campaign in queryset:
            try:
                change(campaign)
            except services.CampaignError as refused:
                self.message_user(request, f"{campaign}: {refused}", messages.WARNING)
            else:
                changed += 1
        self.message_user(request, done % {"count": changed})

    @admin.action(description=_("Pause selected campaigns"), permissions=["view"])
    def pause(self, request, queryset: QuerySet[Campaign]) -> None:
        self._apply(request, queryset, services.pause, _("Paused %(count)s campaign(s)."))

    @admin.action(description=_("Resume selected campaigns"), permissions=["view"])
    def resume(self, request, queryset: QuerySet[Campaign]) -> None:
        self._apply(request, queryset, services.resume, _("Resumed %(count)s campaign(s)."))

    @admin.action(description=_("Cancel selected campaigns"), permissions=["view"])
    def cancel(self, request, queryset: QuerySet[Campaign]) -> None:
        self._apply(request, queryset, services.cancel, _("Cancelled %(count)s campaign(s)."))


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyAdmin):
    list_display = ["number", "campaign", "contact", "state", "reason", "segments", "sent_at"]
    list_filter = ["state"]
    list_select_related = ["campaign", "contact"]
    search_fields = ["number"]
    raw_id_fields = ["campaign", "contact", "call", "message"]
    readonly_fields = [field.name for field in Recipient._meta.fields]
    ordering = ["-pk"]


@admin.register(CampaignCall)
class CampaignCallAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "position", "kind", "state", "not_before", "attempts",
                    "settled_at", "outcome"]  # fmt: skip
    list_filter = ["state", "kind"]
    list_select_related = ["campaign"]
    raw_id_fields = ["campaign"]
    readonly_fields = [field.name for field in CampaignCall._meta.fields]
    ordering = ["-pk"]
