"""Admins manage outgoing webhooks here: the secret is generated, shown read-only (right
after adding, and on the hook's page on demand: "Show"), never editable; recent
deliveries are read-only."""

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from integrations import services
from integrations.models import OutgoingDelivery, OutgoingWebhook

REVEAL = "reveal"  # ?reveal=1 on a hook's page shows its secret


@admin.register(OutgoingWebhook)
class OutgoingWebhookAdmin(admin.ModelAdmin):
    list_display = ["event_type", "url", "active", "created_by", "created_at"]
    list_filter = ["event_type", "active"]
    search_fields = ["url"]
    list_select_related = ["created_by"]
    actions = ["send_test_event"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def _secret_field(self, request: HttpRequest) -> str:
        return "revealed_secret" if request.GET.get(REVEAL) else "signing_secret"

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        secret = self._secret_field(request)
        return ["event_type", "url", "active", secret, "created_by", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [self._secret_field(request), "created_by", "created_at"]

    @admin.display(description=_("Signing secret"))
    def signing_secret(self, hook: OutgoingWebhook) -> str:
        if not hook.pk:
            return _("Generated when the hook is saved.")
        url = reverse("admin:integrations_outgoingwebhook_change", args=[hook.pk])
        return format_html(
            '<code>whsec_••••••••</code> <a href="{}?{}=1">{}</a>', url, REVEAL, _("Show")
        )

    @admin.display(description=_("Signing secret"))
    def revealed_secret(self, hook: OutgoingWebhook) -> str:
        return format_html("<code>{}</code>", hook.secret) if hook.pk else ""

    def save_model(self, request: HttpRequest, obj: OutgoingWebhook, form, change: bool):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def response_add(self, request: HttpRequest, obj: OutgoingWebhook, post_url_continue=None):
        """To the new hook's page with its secret shown, for the admin to copy."""
        response = super().response_add(request, obj, post_url_continue)
        if "_addanother" in request.POST or IS_POPUP_VAR in request.POST:
            return response
        url = reverse("admin:integrations_outgoingwebhook_change", args=[obj.pk])
        return HttpResponseRedirect(f"{url}?{REVEAL}=1")

    @admin.action(description=_("Send a test event"))
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[OutgoingWebhook]):
        for hook in queryset:
            services.send_test(hook)
        self.message_user(
            request,
            _("Test event queued for %(count)s hook(s): see Outgoing deliveries.")
            % {"count": queryset.count()},
            messages.SUCCESS,
        )


@admin.register(OutgoingDelivery)
class OutgoingDeliveryAdmin(admin.ModelAdmin):
    """What was sent where and how it went: read-only."""

    list_display = [
        "created_at", "event_type", "hook", "state", "attempts", "last_status",
        "next_attempt_at", "delivered_at",
    ]  # fmt: skip
    list_filter = ["state", "event_type", "hook"]
    list_select_related = ["hook"]
    search_fields = ["event_id"]
    readonly_fields = [
        "hook", "event_id", "event_type", "payload", "state", "attempts", "next_attempt_at",
        "last_status", "last_error", "created_at", "delivered_at",
    ]  # fmt: skip
    fields = readonly_fields
    ordering = ["-created_at", "-pk"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        totals = services.counts()
        extra_context = {
            **(extra_context or {}),
            "title": _(
                "Outgoing deliveries: %(succeeded)s succeeded, %(failed)s given up, "
                "%(pending)s pending (%(attempted)s POSTs)"
            )
            % totals,
        }
        return super().changelist_view(request, extra_context)
