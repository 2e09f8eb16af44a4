"""The audit log on the admin site: to read only. No one adds, changes or deletes an
entry there, superusers included (docs/audit.md); Settings → Audit log is the page to use."""

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_name", "action", "target", "ip"]
    list_filter = ["action"]
    search_fields = ["target", "actor_name"]
    date_hierarchy = None  # a hierarchy counts every entry by year and month: slow at 1M
    show_full_result_count = False  # one COUNT(*) of the whole log per page is enough
    readonly_fields = ["at", "actor", "actor_name", "action", "target", "detail", "ip"]
    fields = readonly_fields
    list_select_related = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
