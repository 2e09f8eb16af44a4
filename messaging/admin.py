from django.contrib import admin
from django.db.models import Q

from messaging.inbound import MAX_APPLY_ATTEMPTS
from messaging.models import CannedReply, Conversation, Message, RejectedWebhook, WebhookEvent


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ["title", "body"]
    search_fields = ["title", "body"]


@admin.register(RejectedWebhook)
class RejectedWebhookAdmin(admin.ModelAdmin):
    """What TxtSync (or someone) sent that the receiver could not accept."""

    list_display = ["received_at", "kind", "reason"]
    list_filter = ["kind"]
    readonly_fields = ["received_at", "kind", "reason", "body"]

    def has_add_permission(self, request) -> bool:
        return False


class AppliedFilter(admin.SimpleListFilter):
    title = parameter_name = "applied"

    def lookups(self, request, model_admin):
        return [("yes", "applied"), ("waiting", "waiting"), ("failed", "could not be applied")]

    def queryset(self, request, queryset):
        given_up = Q(apply_attempts__gte=MAX_APPLY_ATTEMPTS)
        return {
            "yes": queryset.filter(applied_at__isnull=False),
            "waiting": queryset.filter(~given_up, applied_at__isnull=True),
            "failed": queryset.filter(given_up, applied_at__isnull=True),
        }.get(self.value(), queryset)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "kind", "sms_id", "applied_at", "apply_attempts"]
    list_filter = ["kind", AppliedFilter]
    readonly_fields = [
        "received_at", "kind", "sms_id", "payload", "applied_at", "apply_attempts", "apply_error"
    ]  # fmt: skip
    show_full_result_count = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["contact", "status", "assignee", "unread", "last_activity_at"]
    list_filter = ["status", "unread"]
    list_select_related = ["contact", "assignee"]
    raw_id_fields = ["contact", "last_message"]
    show_full_result_count = False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "message_date",
        "direction",
        "to_number",
        "from_number",
        "send_state",
        "status",
    ]
    list_filter = ["direction", "send_state"]
    search_fields = ["body", "to_number", "from_number"]
    raw_id_fields = ["conversation", "contact", "author"]
    show_full_result_count = False
