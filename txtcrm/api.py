"""The REST API's shared plumbing, used by every app's API (contacts, messaging,
campaigns): page numbers, strict serializers, and the `?ordering=` parameter.

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
from drf_spectacular.utils import OpenApiParameter
from rest_framework import pagination, serializers

UNKNOWN_FIELD = "Unknown field: there is no such field here (check its spelling)."
READ_ONLY_FIELD = "Read-only: set by txtcrm or by TxtSync; leave it out of the request."
# Sent by Django's HTML forms (the browsable API); not a field anyone means.
IGNORED_KEYS = {"csrfmiddlewaretoken"}


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
