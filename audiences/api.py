"""REST API for saved segments (token or session auth; docs/segments.md).

/api/segments/             GET list (paginated, by name), POST create
                           {"name", "description"?, "conditions"}
/api/segments/<id>/        GET, PUT, PATCH (the creator or an admin), DELETE (same; 204,
                           audited)
/api/segments/<id>/count/  GET {"count": n}: the contacts in it now; 400 if its conditions
                           no longer hold (a tag it names was deleted)
/api/contacts/?segment=<id> lists them (contacts/api.py).

Everyone signed in lists, reads, counts and creates segments; changing or deleting one is
for its creator and admins (403 otherwise). Invalid conditions are a 400
{"conditions": ["Condition 2: unknown op 'sometimes'; ..."]}.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from audiences import segments
from audiences.models import Segment
from audiences.serializers import SegmentCountSerializer, SegmentSerializer
from audit.log import record
from audit.models import Action
from txtcrm.api import IdsInRange, Pagination

PARAMETERS = {"page", "page_size", "format"}


class CreatorOrAdminChanges(permissions.IsAuthenticated):
    def has_object_permission(self, request, view, obj) -> bool:
        if view.action in ("update", "partial_update", "destroy"):
            return segments.may_change(request.user, obj)
        return True


class SegmentViewSet(IdsInRange, viewsets.ModelViewSet):
    serializer_class = SegmentSerializer
    pagination_class = Pagination
    permission_classes = [CreatorOrAdminChanges]

    def get_queryset(self) -> QuerySet[Segment]:
        if self.action == "list":
            unknown = sorted(set(self.request.query_params) - PARAMETERS)
            if unknown:
                allowed = ", ".join(sorted(PARAMETERS))
                raise ValidationError(
                    {name: [f"Unknown parameter; use one of: {allowed}."] for name in unknown}
                )
        return Segment.objects.select_related("created_by").order_by("name", "pk")

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        serializer.instance = segments.save(
            Segment(),
            name=data["name"],
            description=data.get("description", ""),
            document=data["conditions"],
            user=self.request.user,
        )

    def perform_update(self, serializer) -> None:
        segment, data = serializer.instance, serializer.validated_data
        segments.save(
            segment,
            name=data.get("name", segment.name),
            description=data.get("description", segment.description),
            document=data.get("conditions", segment.conditions),
        )

    def perform_destroy(self, instance: Segment) -> None:
        name = instance.name
        instance.delete()
        record(Action.DELETE, request=self.request, target=f"segment {name}", via="API")

    @extend_schema(responses={200: SegmentCountSerializer}, request=None)
    @action(detail=True, methods=["get"])
    def count(self, request, pk=None) -> Response:
        segment = self.get_object()
        try:
            return Response({"count": segments.count(segment)}, status=status.HTTP_200_OK)
        except segments.SegmentInvalid as error:
            raise ValidationError({"conditions": error.errors}) from error
