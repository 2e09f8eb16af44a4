"""The GDPR pages of a contact (docs/privacy.md): the personal data export (a ZIP) and
the erase confirmation. Thin: privacy.services does the work and writes the audit entry."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import admins_only
from contacts import services as contacts
from privacy import services

erase_admins_only = admins_only(gettext_lazy("Only administrators can erase a contact."))
export_admins_only = admins_only(
    gettext_lazy("Only administrators can export a contact's personal data.")
)


class EraseForm(forms.Form):
    confirm = forms.CharField(
        label=gettext_lazy("Type ERASE or the contact's mobile number"), max_length=40
    )

    def __init__(self, *args, contact, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact = contact

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"]
        if not services.confirmation_matches(self.contact, typed):
            raise forms.ValidationError(
                _("That is neither ERASE nor this contact's number: nothing was erased.")
            )
        return typed


@export_admins_only
@require_GET
def export(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything held about one contact, as a ZIP download (data.json, messages.csv)."""
    contact = get_object_or_404(contacts.visible(), pk=pk)
    archive = services.export_zip(contact)
    services.record_export(contact, request=request, how="zip")
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}-data.zip"'
    response["Cache-Control"] = "no-store"
    return response


@erase_admins_only
@require_http_methods(["GET", "POST"])
def erase(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(contacts.visible(), pk=pk)
    form = EraseForm(request.POST if request.method == "POST" else None, contact=contact)
    if form.is_bound and form.is_valid():
        erasure = services.erase(contact, request=request)
        messages.success(
            request,
            _(
                "Contact %(id)s was erased: %(messages)s messages and its conversation are "
                "gone, its number is on the suppression list, and TxtSync is told to delete it."
            )
            % {"id": erasure.contact_id, "messages": erasure.removed["messages"]},
        )
        return redirect("contacts")
    return render(request, "privacy/confirm_erase.html", {"contact": contact, "form": form})
