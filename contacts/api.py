"""REST API for contacts and tags (token or session auth; see REST_FRAMEWORK in settings).

Thin: parse with contacts.serializers, change through contacts.services (so every
change is pushed to TxtSync and every AllowSMS change has its history), render.

/api/contacts/
  GET     list, paginated (`page`, `page_size` <= 500); filters `search` (name, number
          in any format, email, external reference), `tag` (name, any case),
          `allow_sms` (true/false), `marketing_consent`, `sync_state`, `segment` (a saved
          segment's id, docs/segments.md); `ordering` by `name`,
          `last_communication_date` or `overall_rating` (`-` for descending,
          comma-separated for several). An unknown query parameter is a 400.
  POST    create; `tags` are names (created when new), `allow_sms` defaults to true.
/api/contacts/<id>/
  GET     one contact, with `opt_out_history` and `consent_history` (single-contact
          replies only). `marketing_consent` (given/withdrawn/unknown) is read-only here.
  PUT     replace: omitted text fields become blank and omitted `tags` none; `allow_sms`
          and `external_reference` (the sync key) only change when sent, so an
          opt-out is never undone by leaving a field out.
  PATCH   change only the fields sent.
  DELETE  204; deleted here at once, removed from TxtSync by the push task.
/api/contacts/<id>/consent/
  POST    {"consent": "given"|"withdrawn", "wording": "..."}: records marketing consent
          (source api; the wording is required when given); 200 with the contact. The
          same consent with the same wording again records nothing.
/api/tags/             GET (all tags with contact counts, one query), POST {"name"}
/api/tags/<id>/        GET, PATCH/PUT {"name"} renames, DELETE (204)

Read-only fields (engagement counters, sync state, ids, timestamps) are refused
with a 400 naming them when sent with a value that differs from the contact's;
an unchanged echo (GET, edit, PUT back) is accepted and ignored.
Validation errors are DRF's `{"field": ["message"]}`.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models import Count, F, Prefetch, Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from audit.log import contact_target, record
from audit.models import Action
from contacts import segment_hook, services
from contacts.models import (
    TXTSYNC_FIELDS,
    ConsentEvent,
    ConsentSource,
    Contact,
    MarketingConsent,
    OptOutEvent,
    OptOutSource,
    SyncState,
    Tag,
)
from contacts.serializers import (
    ConsentSerializer,
    ContactDetailSerializer,
    ContactSerializer,
    TagSerializer,
)
from txtcrm.api import (
    IdsInRange,
    Pagination,
    id_out_of_range,
    ordering_parameter,
    parse_ordering,
)

LIST_PARAMETERS = {"search", "tag", "allow_sms", "sync_state", "segment", "ordering", "page"}
LIST_PARAMETERS |= {"page_size", "marketing_consent"}
LIST_PARAMETERS |= {"format"}  # DRF's renderer choice
ORDERINGS = {
    "name": "search_name",
    "last_communication_date": "last_communication_date",
    "overall_rating": "overall_rating",
}
# Parameters that name a field's value: field -> its values.
CHOICE_FILTERS = {"sync_state": SyncState.values, "marketing_consent": MarketingConsent.values}
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
TAG_PARAMETERS = {"ordering", "format"}
TAG_ORDERINGS = {
    "name": "name_folded",
    "contact_count": "contact_count",
    "created_at": "created_at",
}
CONTACT_FILTERS = [
    OpenApiParameter("search", str, description="Name, number in any format, e-mail, "
                     "external reference."),
    OpenApiParameter("tag", str, description="A tag name, any case."),
    OpenApiParameter("allow_sms", bool),
    OpenApiParameter("sync_state", str, enum=SyncState.values),
    OpenApiParameter("segment", int, description="A saved segment's id (/api/segments/)."),
    OpenApiParameter("marketing_consent", str, enum=MarketingConsent.values),
    ordering_parameter(ORDERINGS, "pk (oldest first)"),
]  # fmt: skip


@contextmanager
def contact_errors() -> Iterator[None]:
    """A service's ContactInvalid as DRF's 400 `{"field": ["message"]}`."""
    try:
        yield
    except services.ContactInvalid as error:
        raise ValidationError(
            {name: [problem] for name, problem in error.errors.items()}
        ) from error


def segment_q(raw: str) -> Q:
    """`?segment=<id>` as a Q; SegmentProblem (a 400) if not a saved, valid segment."""
    if not raw.strip().isdigit() or id_out_of_range(raw):
        raise segment_hook.SegmentProblem("Must be a segment's id (see /api/segments/).")
    return segment_hook.segment_q(int(raw))


def list_ordering(raw: str, errors: dict[str, list[str]]) -> list:
    """`?ordering=` as order_by expressions; a bad key is put in `errors`."""
    order_by = []
    for key in filter(None, (k.strip() for k in raw.split(","))):
        field = ORDERINGS.get(key.removeprefix("-"))
        if field is None:
            errors["ordering"] = [f"Order by one of: {', '.join(ORDERINGS)} (- for descending)."]
            break
        expression = F(field)
        # Contacts never messaged (NULL date) go last either way, on every database.
        order_by.append(
            expression.desc(nulls_last=True)
            if key.startswith("-")
            else expression.asc(nulls_last=True)
        )
    return order_by


def filter_contacts(params) -> QuerySet[Contact]:
    """The list's query parameters applied to the visible contacts; 400 on bad ones."""
    errors: dict[str, list[str]] = {}
    for name in sorted(set(params) - LIST_PARAMETERS):
        errors[name] = [f"Unknown parameter; use one of: {', '.join(sorted(LIST_PARAMETERS))}."]
    contacts = services.matching(params.get("search", ""))
    if tag := params.get("tag", "").strip():
        contacts = contacts.filter(tags__name_folded=tag.casefold())
    if "allow_sms" in params:
        allow_sms = BOOLEANS.get(params["allow_sms"].strip().lower())
        if allow_sms is None:
            errors["allow_sms"] = ["Must be true or false."]
        else:
            contacts = contacts.filter(allow_sms=allow_sms)
    contacts = _choice_filters(contacts, params, errors)
    if "segment" in params:
        try:
            contacts = contacts.filter(segment_q(params["segment"]))
        except segment_hook.SegmentProblem as problem:
            errors["segment"] = [str(problem)]
    order_by = list_ordering(params.get("ordering", ""), errors)
    if errors:
        raise ValidationError(errors)
    return contacts.order_by(*order_by, "pk")


def _choice_filters(contacts: QuerySet[Contact], params, errors: dict) -> QuerySet[Contact]:
    """`sync_state`, `marketing_consent`: one of the field's values, else an error."""
    for name, values in CHOICE_FILTERS.items():
        if name not in params:
            continue
        if params[name] not in values:
            errors[name] = [f"Must be one of: {', '.join(values)}."]
        else:
            contacts = contacts.filter(**{name: params[name]})
    return contacts


@extend_schema_view(
    list=extend_schema(
        parameters=CONTACT_FILTERS,
        description="Contacts, paginated. An unknown query parameter is a 400.",
    ),
    consent=extend_schema(
        request=ConsentSerializer,
        responses=ContactDetailSerializer,
        description="Record marketing consent given (with its wording) or withdrawn.",
    ),
)
class ContactViewSet(IdsInRange, viewsets.ModelViewSet):
    pagination_class = Pagination

    def get_serializer_class(self):
        return ContactSerializer if self.action == "list" else ContactDetailSerializer

    def get_queryset(self) -> QuerySet[Contact]:
        if self.action == "list":
            return filter_contacts(self.request.query_params).prefetch_related("tags")
        return services.visible().prefetch_related(
            "tags",
            Prefetch("opt_out_events", queryset=OptOutEvent.objects.select_related("actor")),
            Prefetch("consent_events", queryset=ConsentEvent.objects.select_related("actor")),
        )

    def _render(self, contact: Contact, status_code: int = status.HTTP_200_OK) -> Response:
        contact = self.get_queryset().get(pk=contact.pk)  # fresh, with its prefetches
        return Response(self.get_serializer(contact).data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        tag_names = fields.pop("tags", ())
        allow_sms = fields.pop("allow_sms", True)
        with contact_errors():
            contact = services.create_contact(
                fields,
                tag_names=tag_names,
                allow_sms=allow_sms,
                source=OptOutSource.API,
                actor=request.user,
            )
        return self._render(contact, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        contact = self.get_object()
        serializer = self.get_serializer(contact, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        allow_sms = fields.pop("allow_sms", None)
        tag_names = fields.pop("tags", None)
        if not partial:  # PUT replaces what it does not mention (see the module's doc)
            fields = {name: "" for name in TXTSYNC_FIELDS} | fields
            tag_names = tag_names if tag_names is not None else []
        with contact_errors(), transaction.atomic():
            if fields or tag_names is not None:
                services.update_contact(contact, fields, tag_names=tag_names, actor=request.user)
            if allow_sms is not None:
                changed = services.set_allow_sms(
                    contact,
                    allow_sms,
                    source=OptOutSource.API,
                    actor=request.user,
                    reason="changed through the API",
                )
                if changed and allow_sms:
                    target = contact_target(contact.pk)
                    record(Action.OPT_OUT_OVERRIDE, request=request, target=target, via="API")
        return self._render(contact)

    # serializer_class: what the browsable API's form offers.
    @action(detail=True, methods=["post"], serializer_class=ConsentSerializer)
    def consent(self, request, pk=None) -> Response:
        contact = self.get_object()
        serializer = ConsentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with contact_errors():
            services.set_marketing_consent(
                contact,
                serializer.validated_data["consent"],
                source=ConsentSource.API,
                actor=request.user,
                wording=serializer.validated_data["wording"],
            )
        return Response(ContactDetailSerializer(self.get_queryset().get(pk=contact.pk)).data)

    def destroy(self, request, *args, **kwargs):
        contact = self.get_object()
        target = contact_target(contact.pk)  # before: a contact TxtSync never knew loses its pk
        services.delete_contact(contact)
        record(Action.DELETE, request=request, target=target, via="API")
        return Response(status=status.HTTP_204_NO_CONTENT)


class AdminsRenameAndDelete(permissions.IsAuthenticated):
    """Anyone signed in lists and creates tags (agents tag contacts as they work); only
    admins rename or delete one, as on the Tags page."""

    def has_permission(self, request, view) -> bool:
        if view.action in ("update", "partial_update", "destroy"):
            return bool(request.user and request.user.is_staff)
        return super().has_permission(request, view)


@extend_schema_view(
    list=extend_schema(
        parameters=[ordering_parameter(TAG_ORDERINGS, "name")],
        description="Every tag (not paginated: tags are few), with its contact count.",
    )
)
class TagViewSet(IdsInRange, viewsets.ModelViewSet):
    """Tags are few, so the list is not paginated: all of them in one query."""

    serializer_class = TagSerializer
    pagination_class = None
    permission_classes = [AdminsRenameAndDelete]

    def get_queryset(self) -> QuerySet[Tag]:
        tags = Tag.objects.annotate(
            contact_count=Count("contacts", filter=Q(contacts__deleted_at__isnull=True))
        )
        order_by = []
        if self.action == "list":
            params = self.request.query_params
            unknown = sorted(set(params) - TAG_PARAMETERS)
            if unknown:
                allowed = ", ".join(sorted(TAG_PARAMETERS))
                raise ValidationError(
                    {name: [f"Unknown parameter; use one of: {allowed}."] for name in unknown}
                )
            order_by = parse_ordering(params.get("ordering", ""), TAG_ORDERINGS)
        return tags.order_by(*order_by, "name_folded", "pk")

    def _render(self, tag: Tag, status_code: int = status.HTTP_200_OK) -> Response:
        tag = self.get_queryset().get(pk=tag.pk)
        return Response(self.get_serializer(tag).data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        [tag] = services.tags_named([serializer.validated_data["name"]])
        return self._render(tag, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        tag = self.get_object()
        serializer = self.get_serializer(tag, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        if "name" in serializer.validated_data:
            services.rename_tag(tag, serializer.validated_data["name"])
        return self._render(tag)

    def destroy(self, request, *args, **kwargs):
        tag = self.get_object()
        services.delete_tag(tag)
        record(Action.DELETE, request=request, target=f"tag {tag.name}", via="API")
        return Response(status=status.HTTP_204_NO_CONTENT)
