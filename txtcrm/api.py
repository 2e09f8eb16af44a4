"""The REST API's shared plumbing, used by every app's API (contacts, messaging,
campaigns): page numbers, strict serializers, the `?ordering=` parameter, ids checked
against their range, and the error bodies the schema documents (txtcrm/api_schema.py).

Strictness, so clients learn of their mistakes:
- a field the API does not have is refused (400 naming it);
- a read-only field (counters, states, ids, timestamps) is refused when its value
  differs from the object's; echoing the value unchanged, as a client does when it GETs
  an object, edits it and PUTs it back, is accepted and ignored.

This module must not import rest_framework.generics (nor anything that does): DRF loads
the default pagination class (settings.py, Pagination below) while importing it.
"""

from collections.abc import Mapping

from django.db.models import F
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import pagination, serializers
from rest_framework.exceptions import ValidationError

UNKNOWN_FIELD = "Unknown field: there is no such field here (check its spelling)."
READ_ONLY_FIELD = "Read-only: set by txtcrm or by TxtSync; leave it out of the request."
# Sent by Django's HTML forms (the browsable API); not a field anyone means.
IGNORED_KEYS = {"csrfmiddlewaretoken"}


# Ids are 64-bit (BigAutoField everywhere). A larger one in a query overflows the database
# driver (a 500), so every id the API reads, in a path or a body, is checked first.
MAX_ID = 2**63 - 1
ID_OUT_OF_RANGE = f"Not an id: ids are whole numbers from 1 to {MAX_ID}."


def id_out_of_range(raw) -> bool:
    """True for a whole number no row can have as its id (below 1 or beyond MAX_ID)."""
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return False  # not a number at all: no such object, a 404
    return not 1 <= value <= MAX_ID


class IdField(serializers.IntegerField):
    """An object's id in a request body: 1 to MAX_ID, else a 400 naming the field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        messages = {"max_value": ID_OUT_OF_RANGE, **kwargs.pop("error_messages", {})}
        super().__init__(error_messages=messages, **kwargs)


class IdsInRange:
    """For viewsets: an id in the URL that no row can have (`/api/contacts/0/`,
    `/api/contacts/99999999999999999999/`) is a 400 `{"id": [...]}`, checked after
    authentication and permissions (an agent still gets 403 on an admins' URL). An id
    that is not a number is a 404, as DRF answers it."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if any(id_out_of_range(value) for value in kwargs.values()):
            raise ValidationError({"id": [ID_OUT_OF_RANGE]})


class ErrorSerializer(serializers.Serializer):
    """The body of every error but a 400: 401, 403, 404, 405, 409 (schema: "Error")."""

    detail = serializers.CharField(help_text="What went wrong, in words.")


@csrf_exempt  # answers every method with the same 404, changing nothing
def not_found(request, path: str) -> JsonResponse:
    """Any other URL under /api/ (an id with a dot, an empty segment): the API's JSON 404,
    as its schema documents, rather than the site's HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)


# A state conflict (409), for the operations that have one: see txtcrm/api_schema.py.
CONFLICT = OpenApiResponse(
    ErrorSerializer, description="The object's state does not allow this; detail says why."
)


class Pagination(pagination.PageNumberPagination):
    """Page numbers; `?page_size=` up to 500. The project's default (settings.py)."""

    page_size_query_param = "page_size"
    max_page_size = 500


class StrictSerializerMixin:
    """Refuse unknown fields, and read-only fields whose value would change."""

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # DRF's own "expected a dict" error
        errors: dict[str, list[str]] = {}
        sent = [key for key in data if key not in IGNORED_KEYS]
        for name in sent:
            if name not in self.fields:
                errors[name] = [UNKNOWN_FIELD]
        read_only = [name for name in sent if name in self.fields and self.fields[name].read_only]
        if read_only:
            current = self.to_representation(self.instance) if self.instance is not None else {}
            for name in read_only:
                if name not in current or data[name] != current[name]:
                    errors[name] = [READ_ONLY_FIELD]
        try:
            validated = super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail if isinstance(error.detail, Mapping) else {}
            errors = {**detail, **errors}
            if not errors:
                raise
            validated = None
        if errors:
            raise serializers.ValidationError(errors)
        return validated


ORDERING_HELP = "Order by one of: {} (- for descending, comma-separated for several)."


def parse_ordering(raw: str, orderings: dict[str, str]) -> list:
    """`?ordering=` as order_by() expressions: keys of `orderings` (API name -> model
    field), `-` for descending, comma-separated; NULLs last either way. Raises
    ValidationError({"ordering": [...]}) for a key not in the whitelist. Every list
    endpoint (contacts, tags, conversations, messages, campaigns, recipients) uses it."""
    order_by = []
    for key in filter(None, (k.strip() for k in raw.split(","))):
        field = orderings.get(key.removeprefix("-"))
        if field is None:
            raise serializers.ValidationError(
                {"ordering": [ORDERING_HELP.format(", ".join(orderings))]}
            )
        expression = F(field)
        order_by.append(
            expression.desc(nulls_last=True)
            if key.startswith("-")
            else expression.asc(nulls_last=True)
        )
    return order_by


def ordering_parameter(orderings: dict[str, str], default: str):
    """The OpenAPI description of an endpoint's `ordering` query parameter."""
    return OpenApiParameter(
        "ordering",
        str,
        description=ORDERING_HELP.format(", ".join(orderings)) + f" Default: {default}.",
    )
