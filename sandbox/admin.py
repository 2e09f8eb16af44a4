from django.contrib import admin

from sandbox.models import Account, ApiCall, Application, Contact, Tag


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "account",
        "client_key",
        "profile",
        "rate_limit_calls",
        "rate_limit_seconds",
    ]
    readonly_fields = ["client_key", "client_secret_sha256"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["full_name", "mobile_number", "external_reference", "allow_sms", "account"]
    search_fields = ["full_name", "mobile_number", "external_reference"]
    list_filter = ["account", "allow_sms"]


@admin.register(ApiCall)
class ApiCallAdmin(admin.ModelAdmin):
    list_display = ["at", "application", "operation", "status_code", "counted", "fault"]
    list_filter = ["application", "operation", "status_code", "fault"]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "virtual_number", "currency_code", "rehearsal", "created_at"]
    list_filter = ["rehearsal"]  # campaign rehearsals' stages (sandbox/rehearsal.py)


admin.site.register(Tag)
