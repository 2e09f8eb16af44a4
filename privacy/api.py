"""GDPR routes of the REST API, included under /api/ (docs/privacy.md, docs/api.md).

/api/contacts/<id>/export/  GET   everything held about the contact, as JSON (the ZIP's
                                  data.json); admins only. Audited.
/api/contacts/<id>/erase/   POST  {"confirm": "ERASE" or the contact's number}: erase it
                                  (admins only); 200 with what was removed. Audited.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts import services as contacts
from privacy import services

NOT_FOUND = OpenApiResponse(description="No such contact (or it was deleted).")
NOT_ALLOWED = OpenApiResponse(description="Not signed in (401) or not allowed (403).")


class MayExport(permissions.IsAdminUser):
    message = "Only administrators can export a contact's personal data."


class IsAdmin(permissions.IsAdminUser):
    message = "Only administrators can erase a contact."


class ContactExport(APIView):
    permission_classes = [MayExport]

    @extend_schema(
        operation_id="contacts_personal_data_export",
        description="Everything txtcrm holds about one contact (GDPR subject access).",
        responses={200: OpenApiTypes.OBJECT, 401: NOT_ALLOWED, 403: NOT_ALLOWED, 404: NOT_FOUND},
    )
    def get(self, request, pk: int) -> Response:
        contact = get_object_or_404(contacts.visible(), pk=pk)
        data = services.export_data(contact)
        services.record_export(contact, request=request, how="json (API)")
        return Response(data, headers={"Cache-Control": "no-store"})


ERASE_REQUEST = inline_serializer("EraseRequest", {"confirm": serializers.CharField()})
ERASE_RESULT = inline_serializer(
    "Erasure",
    {
        "contact_id": serializers.IntegerField(),
        "number_hash_prefix": serializers.CharField(),
        "removed": serializers.DictField(child=serializers.IntegerField()),
    },
)


class ContactErase(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="contacts_erase",
        description='Erase the contact (GDPR). `confirm` must be "ERASE" or its number.',
        request=ERASE_REQUEST,
        responses={
            200: ERASE_RESULT,
            400: OpenApiResponse(description="`confirm` is missing or does not match."),
            401: NOT_ALLOWED,
            403: NOT_ALLOWED,
            404: NOT_FOUND,
        },
    )
    def post(self, request, pk: int) -> Response:
        contact = get_object_or_404(contacts.visible(), pk=pk)
        confirm = request.data.get("confirm") if hasattr(request.data, "get") else None
        if not isinstance(confirm, str) or not services.confirmation_matches(contact, confirm):
            raise ValidationError({"confirm": ['Send "ERASE" or the contact\'s number.']})
        erasure = services.erase(contact, request=request)
        return Response(
            {
                "contact_id": erasure.contact_id,
                "number_hash_prefix": erasure.hash_prefix,
                "removed": erasure.removed,
            }
        )
