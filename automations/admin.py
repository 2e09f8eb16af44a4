"""Automations in the admin site, for troubleshooting: the settings pages
(Settings -> Automations) are where admins set them up. What was done (`Applied`) is
read-only."""

from django.contrib import admin

from automations.models import (
    Applied,
    AutomationSettings,
    Availability,
    Holiday,
    KeywordRule,
    OpeningHours,
    TagRoute,
)


@admin.register(AutomationSettings)
class AutomationSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "away_enabled", "welcome_enabled", "assignment", "updated_at"]


@admin.register(OpeningHours)
class OpeningHoursAdmin(admin.ModelAdmin):
    list_display = ["weekday", "start", "end"]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name"]


@admin.register(KeywordRule)
class KeywordRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "match", "text", "tag", "assign_to", "enabled"]
    list_filter = ["enabled", "match"]
    search_fields = ["text", "reply"]
    list_select_related = ["tag", "assign_to"]


@admin.register(TagRoute)
class TagRouteAdmin(admin.ModelAdmin):
    list_display = ["position", "tag", "user"]
    list_select_related = ["tag", "user"]


@admin.register(Availability)
class AvailabilityAdmin(admin.ModelAdmin):
    list_display = ["user", "available"]
    list_select_related = ["user"]


@admin.register(Applied)
class AppliedAdmin(admin.ModelAdmin):
    list_display = ["created_at", "message", "contact", "key", "cooldown_key", "detail"]
    list_filter = ["key", "cooldown_key"]
    raw_id_fields = ["message", "contact", "rule", "sent"]
    list_select_related = ["contact"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
