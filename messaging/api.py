"""REST API for conversations and messages (token or session auth, as the contacts API).

Thin: parse with messaging.serializers, change through messaging.conversations, render.
Every list costs a constant number of queries, whatever the amount of data.

/api/conversations/
  GET     the inbox, newest activity first, paginated (`page`, `page_size` <= 500) with
          `next` / `previous` links but no total `count` (see InboxPagination);
          `folder` = mine | unassigned | all (default) | snoozed | scheduled | closed
          (open folders hide snoozed conversations until due or until the contact
          replies; scheduled: with a reply to send later), `q` (contact name, number in any format,
          message text), `tag` (a tag name, any case). An unknown parameter is a 400.
/api/conversations/<id>/
  GET     one conversation: contact summary, status, assignee, unread,
          last_activity_at, last message. Reading it here does not mark it read.
  POST    <id>/assign/ {"user": <id> | null}; <id>/close/; <id>/reopen/ -> 200, the
          conversation as it is now.
/api/conversations/<id>/messages/
  GET     its messages in thread order (oldest first, by the message's own date),
          paginated.
  POST    {"body", "sender"?, "seen_up_to"?} queues a reply -> 201 with the queued
          message (its send_state moves on as the send task works). A reply that must
          not go (opted out, empty, too long, a [[placeholder]] left) -> 400
          {"body": [reason]}; nothing is sent. With seen_up_to (the newest message id
          the caller read): 409 with the new messages when a text came in or someone
          else replied since (messaging/send_guard.py).
/api/messages/<id>/
  GET     one message: direction, body, dates, send_state, last_error, TxtSync's
          status, error_code, segments, sms_id, cost, author.
"""

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, pagination, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.utils.urls import remove_query_param, replace_query_param

from contacts.models import Tag
from messaging import conversations, send_guard
from messaging.models import Conversation, Message
from messaging.serializers import (
    AssignSerializer,
    ConversationSerializer,
    MessagePageSerializer,
    MessageSerializer,
    ReplySerializer,
    SendGuardConflictSerializer,
)
from txtcrm.api import MAX_ID, IdsInRange, Pagination, ordering_parameter, parse_ordering

# format: DRF's
LIST_PARAMETERS = {"folder", "q", "tag", "ordering", "page", "page_size", "format"}
THREAD_PARAMETERS = {"ordering", "page", "page_size", "format"}
DEFAULT_FOLDER = "all"
# The inbox's search reads the folder in a total order (conversations.search), so each
# ordering ends with the id in the same direction.
CONVERSATION_ORDERINGS = {"last_activity_at": "last_activity_at"}
MESSAGE_ORDERINGS = {"message_date": "message_date"}
CONVERSATION_FILTERS = [
    OpenApiParameter("folder", str, enum=list(conversations.FOLDERS), description=(
        "mine | unassigned | all (default) | snoozed | scheduled | closed; open folders "
        "hide snoozed conversations until due or until the contact replies; scheduled: "
        "with a reply to send later.")),
    OpenApiParameter("q", str, description="Contact name, number in any format, message text."),
    OpenApiParameter("tag", str, description="A tag name, any case."),
    ordering_parameter(CONVERSATION_ORDERINGS, "-last_activity_at (newest activity first)"),
]  # fmt: skip


class InboxPagination(pagination.BasePagination):
    """Page numbers as txtcrm.api.Pagination (`page`, `page_size` up to 500),
    without the total count: counting every conversation a search matches costs more
    than the page itself (a search across 1M messages, bench/inbox.py), and the inbox
    pages do not count either. `next` is null on the last page."""

    max_page_size = Pagination.max_page_size
    # The databases' OFFSET is a signed 64-bit integer: a page starting beyond it is
    # past the end of any inbox, so a 404 as for any empty page (not the database's
    # overflow error, a 500).
    max_row = 2**63 - 1

    def paginate_queryset(self, queryset, request, view=None) -> list:
        self.request = request
        self.number, size = self.page(request.query_params)
        start = (self.number - 1) * size
        if start + size + 1 > MAX_ID:  # past any inbox, and past what SQL's OFFSET takes
            raise NotFound("Invalid page.")
        rows = list(queryset[start : start + size + 1])  # one more: is there a next page?
        self.has_next = len(rows) > size
        if not rows and self.number > 1:
            raise NotFound("Invalid page.")
        return rows[:size]

    @classmethod
    def page(cls, params) -> tuple[int, int]:
        """(page number, page size) asked for; bad values get the defaults. A page
        beyond the last row a database can reach is not found."""
        number = cls._positive(params.get("page"), default=1)
        size = cls._positive(params.get("page_size"), default=settings.REST_FRAMEWORK["PAGE_SIZE"])
        size = min(size, cls.max_page_size)
        if number * size + 1 > cls.max_row:
            raise NotFound("Invalid page.")
        return number, size

    @classmethod
    def page_end(cls, params) -> int:
        """How many rows from the start paginate_queryset reads at most."""
        number, size = cls.page(params)
        return number * size + 1

    @staticmethod
    def _positive(raw: str | None, default: int) -> int:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            return default
        return value if value > 0 else default

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {"name": "page", "required": False, "in": "query", "schema": {"type": "integer"}},
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"At most {self.max_page_size}.",
                "schema": {"type": "integer"},
            },
        ]

    def get_paginated_response(self, data) -> Response:
        url = self.request.build_absolute_uri()
        previous = None
        if self.number == 2:
            previous = remove_query_param(url, "page")
        elif self.number > 2:
            previous = replace_query_param(url, "page", self.number - 1)
        following = replace_query_param(url, "page", self.number + 1) if self.has_next else None
        return Response({"next": following, "previous": previous, "results": data})


def refuse_unknown(params, allowed: set[str]) -> dict[str, list[str]]:
    return {
        name: [f"Unknown parameter; use one of: {', '.join(sorted(allowed))}."]
        for name in sorted(set(params) - allowed)
    }


def filter_conversations(params, user) -> QuerySet[Conversation]:
    """The list's query parameters applied to the inbox; 400 on bad ones."""
    errors = refuse_unknown(params, LIST_PARAMETERS)
    folder = params.get("folder", DEFAULT_FOLDER).strip() or DEFAULT_FOLDER
    if folder not in conversations.FOLDERS:
        errors["folder"] = [f"Must be one of: {', '.join(conversations.FOLDERS)}."]
    if errors:
        raise ValidationError(errors)
    found = conversations.in_folder(folder, user)
    ordering = parse_ordering(params.get("ordering", ""), CONVERSATION_ORDERINGS)
    if ordering:
        found = found.order_by(*ordering, "pk" if ordering[0].descending is False else "-pk")
    tag_id = None
    if tag := params.get("tag", "").strip():
        tag_id = Tag.objects.filter(name_folded=tag.casefold()).values_list("pk", flat=True)
        tag_id = tag_id.first()
        if tag_id is None:
            return found.none()  # as /api/contacts/?tag=: no such tag, nobody carries it
    return conversations.search(
        found, params.get("q", ""), tag_id, page_end=InboxPagination.page_end(params)
    )


def thread_ordering(params) -> list:
    ordering = parse_ordering(params.get("ordering", ""), MESSAGE_ORDERINGS)
    if not ordering:
        return ["message_date", "pk"]
    return [*ordering, "-pk" if ordering[0].descending else "pk"]


@extend_schema_view(
    list=extend_schema(
        parameters=CONVERSATION_FILTERS,
        description="The inbox, paginated without a total count. An unknown query "
        "parameter is a 400.",
    ),
    assign=extend_schema(request=AssignSerializer, responses=ConversationSerializer),
    close=extend_schema(request=None, responses=ConversationSerializer),
    reopen=extend_schema(request=None, responses=ConversationSerializer),
)
class ConversationViewSet(IdsInRange, viewsets.ReadOnlyModelViewSet):
    serializer_class = ConversationSerializer
    pagination_class = InboxPagination

    def get_queryset(self) -> QuerySet[Conversation]:
        if self.action == "list":
            return conversations.for_list(
                filter_conversations(self.request.query_params, self.request.user)
            )
        return conversations.for_list(Conversation.objects.all())

    def _render(self, conversation: Conversation) -> Response:
        conversation = self.get_queryset().get(pk=conversation.pk)  # fresh, with its joins
        return Response(ConversationSerializer(conversation).data)

    # serializer_class on actions: what the browsable API's form offers.
    @action(detail=True, methods=["post"], serializer_class=AssignSerializer)
    def assign(self, request: Request, pk=None) -> Response:
        conversation = self.get_object()
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversations.assign(conversation, serializer.validated_data["user"], by=self.request.user)
        return self._render(conversation)

    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk=None) -> Response:
        return self._render(conversations.close(self.get_object(), by=request.user))

    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk=None) -> Response:
        return self._render(conversations.reopen(self.get_object(), by=request.user))

    @extend_schema(
        methods=["GET"],
        parameters=[
            ordering_parameter(MESSAGE_ORDERINGS, "message_date (thread order)"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="At most 500."),
        ],
        request=None,
        responses=MessagePageSerializer,
        description="The conversation's messages, paginated (count, next, previous, results).",
    )
    @extend_schema(
        methods=["POST"],
        request=ReplySerializer,
        responses={201: MessageSerializer, 409: SendGuardConflictSerializer},
        description='Queue a reply; 400 {"body": [reason]} when it must not be sent.',
    )
    @action(detail=True, methods=["get", "post"], serializer_class=ReplySerializer)
    def messages(self, request: Request, pk=None) -> Response:
        conversation = self.get_object()
        if request.method == "POST":
            return self._reply(request, conversation)
        errors = refuse_unknown(request.query_params, THREAD_PARAMETERS)
        if errors:
            raise ValidationError(errors)
        thread = (
            Message.objects.filter(conversation=conversation)
            .select_related("author")
            .order_by(*thread_ordering(request.query_params))
        )
        # One conversation's messages: counting them is one cheap indexed query.
        paginator = Pagination()
        page = paginator.paginate_queryset(thread, request, view=self)
        return paginator.get_paginated_response(MessageSerializer(page, many=True).data)

    def _reply(self, request: Request, conversation: Conversation) -> Response:
        serializer = ReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if (held := self._held_back(request, conversation, serializer)) is not None:
            return held
        try:
            message = conversations.reply(
                conversation,
                request.user,
                serializer.validated_data["body"],
                sender=serializer.validated_data.get("sender") or None,
            )
        except conversations.ReplyRefused as refused:
            raise ValidationError({"body": [str(refused)]}) from refused
        message = Message.objects.select_related("author").get(pk=message.pk)
        location = reverse("api-messaging:message-detail", args=[message.pk], request=request)
        return Response(
            MessageSerializer(message).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    @staticmethod
    def _held_back(request: Request, conversation: Conversation, serializer) -> Response | None:
        """The send guard (messaging/send_guard.py) for a reply that says what it saw."""
        seen = serializer.validated_data.get("seen_up_to")
        if seen is None:
            return None
        news = send_guard.new_messages_since(conversation, request.user, seen)
        if not news:
            return None
        body = {
            "detail": "New activity since seen_up_to: nothing was sent. Review it, then "
            "send again with seen_up_to set to the newest id.",
            "seen_up_to": news[-1].pk,
            "new_messages": MessageSerializer(news, many=True).data,
        }
        return Response(body, status=status.HTTP_409_CONFLICT)


class MessageViewSet(IdsInRange, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = MessageSerializer
    queryset = Message.objects.select_related("author")
