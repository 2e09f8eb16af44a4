from django.contrib import admin

from accounts.models import Invitation


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations are made and withdrawn on the Users page
    (/settings/users/), which enforces the rules; the token is stored only as a hash."""

    list_display = ("email", "role", "invited_by", "sent_at", "expires_at", "accepted_at")
    list_filter = ("role",)
    search_fields = ("email", "name")
    exclude = ("token_hash",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
