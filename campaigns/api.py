"""REST API for campaigns (token or session auth, as the contacts API; admins only:
an agent gets 403, a request without credentials 401).

Thin: parse with campaigns.serializers, change through campaigns.services, render.
Every list costs a constant number of queries, whatever the amount of data.

A campaign is created as a **draft**: nothing is sent until it is launched with
POST <id>/launch/, so a client can read the draft's `preview` (recipients, exclusions,
calls, duration, cost) first and change it with PATCH.

/api/campaigns/
  GET     list, newest first, paginated (`page`, `page_size` <= 500); filter `status`
          (draft | scheduled | running | paused | cancelled | finished). Each row has
          `counts`: recipients, pending, sending, sent, failed, unknown, skipped,
          progress (percent). An unknown query parameter is a 400.
  POST    create a draft -> 201 with the campaign (as GET <id>/) and a Location header.
          {"name", "template", "audience", "sender"?, "scheduled_at"?,
           "quiet_start"?, "quiet_end"?, "marketing"?, "frequency_cap_days"?,
           "skip_open_conversations"?}
          - sender: an E.164 number or a sender id of 1-11 letters, digits or spaces,
            as TxtSync's `From`; default settings.TXTSYNC_FROM.
          - template: the message, merge fields {FirstName} {LastName} {FullName}
            {CompanyName} {Custom01}..{Custom05}, fallback {FirstName|there}; at most
            10 SMS long.
          - audience: {"any_tags": [names], "all_tags": [names], "excluded_tags":
            [names], "contacts": [ids], "numbers": [any format]}, every key optional
            but at least one of any_tags / all_tags / contacts / numbers. Tags and
            contacts must exist; a number that is not valid is left out at launch and
            counted in the preview as "invalid number".
          - scheduled_at: ISO 8601 in the future (no offset: settings.TIME_ZONE);
            null or left out: start when launched.
          - quiet_start / quiet_end: "HH:MM" in each recipient's own time zone, both or
            neither, e.g. "21:00" / "08:00".
          - marketing: true for marketing texts (default false): only contacts with
            marketing consent when the account requires it (the preview counts the
            rest as "no marketing consent"), and the account's opt-out footer is added.
          - frequency_cap_days: skip contacts sent a campaign in the last N days; null
            (default): the account's setting; 0: no cap.
          - skip_open_conversations: skip contacts whose conversation is open.
/api/campaigns/<id>/
  GET     the campaign, `stats` (reports.summary: recipients, progress, done, pending,
          sending, sent, delivered, failed and skipped by reason with totals, unknown,
          replies, opt_outs, clicks, rating_change, cost, currency, planned_calls,
          used_calls) and, for a draft, `preview` (recipients, excluded by reason,
          segments_min/max, encodings, calls vs naive_calls, tag_send,
          duration_seconds, cost, currency, samples, unknown_fields); null otherwise.
  PATCH   change a draft (only the fields sent; `audience` is replaced as a whole).
          A campaign that is no longer a draft -> 409 {"detail": why}. No PUT.
  POST    <id>/launch/, <id>/pause/, <id>/resume/, <id>/cancel/ -> 200 with the
          campaign, or 409 {"detail": why} when its state does not allow it:
          launch a draft (-> scheduled or running); pause scheduled or running;
          resume paused; cancel anything not finished or cancelled (stops what has
          not been sent). A launch with nobody to send to is a 409 too.
  POST    <id>/test-send/ {"number", "contact"?: id} -> 202 {"message", "to", "text"}:
          the text (merge fields from the contact, else sample values; footer
          included) queued once to the number through the inbox's send path. It is no
          recipient and does not count for the frequency cap. An invalid, opted-out or
          suppressed number, or a message that cannot be sent, is a 409.
  POST    <id>/duplicate/ -> 201 with a new draft: text, audience and settings copied;
          no recipients, no schedule.
  POST    <id>/rehearse/ {"failure_rate"?: 0.02, "reply_rate"?: 0.05,
          "opt_out_rate"?: 0.01, "seed"?: 1} -> 202 with the queued rehearsal and a
          Location header: the draft played on a sandbox stage of its own (nothing real
          is sent, changed or counted; docs/campaigns.md, "Rehearsal"). Not a draft,
          not launchable as it is, or no sandbox on this server -> 409.
/api/campaigns/<id>/rehearsals/
  GET     its rehearsals, newest first, paginated.
/api/campaigns/<id>/rehearsals/<rehearsal id>/
  GET     one rehearsal: status (queued | running | done | failed), error, options,
          outdated (the draft changed since), and once done its `report`: recipients,
          excluded by reason, calls (planned, made, refused, one_per_recipient,
          by_kind), cost (rehearsed vs estimate), segments, duration (start, waves,
          last_call, seconds at the call budget's pacing), outcomes (delivered, failed
          by error, no_report, not_sent, replies, opt_outs), samples, elapsed_seconds.
/api/campaigns/<id>/recipients/
  GET     its recipients in launch order (those skipped, with the reason, after),
          paginated; filter `state` (pending | sending | sent | failed | skipped |
          unknown). Each: id, number, contact (id), contact_name, state, reason, text,
          segments, sent_at, message (id), delivery_status (TxtSync's: queued, sent,
          delivered, not delivered, scheduled, cancelled; null until known),
          error_code, delivered_at. A draft has none yet (see its preview).

Validation errors are DRF's {"field": ["message"]}; audience errors are nested,
{"audience": {"any_tags": ["No tag named 'Gold'; ..."]}}.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from campaigns import rehearsal, reports, services
from campaigns.models import Campaign, CampaignStatus, Recipient, RecipientState
from campaigns.serializers import (
    CampaignDetailSerializer,
    CampaignRowSerializer,
    RecipientSerializer,
    RehearsalSerializer,
    RehearseSerializer,
    SendTestSerializer,
    SentTestSerializer,
)
from txtcrm.api import CONFLICT, IdsInRange, Pagination, ordering_parameter, parse_ordering

LIST_PARAMETERS = {"status", "ordering", "page", "page_size", "format"}  # format: DRF's
RECIPIENT_PARAMETERS = {"state", "ordering", "page", "page_size", "format"}
CAMPAIGN_ORDERINGS = {
    "created_at": "created_at",
    "name": "name",
    "launched_at": "launched_at",
    "finished_at": "finished_at",
}
RECIPIENT_ORDERINGS = {"id": "pk", "number": "number", "sent_at": "sent_at", "state": "state"}


class Conflict(APIException):
    """The campaign's state does not allow what was asked (the message says why)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The campaign's state does not allow this."
    default_code = "conflict"


@contextmanager
def campaign_errors() -> Iterator[None]:
    """A service's CampaignError as a 409 `{"detail": message}`."""
    try:
        yield
    except services.CampaignError as error:
        raise Conflict(str(error)) from error


def refuse_unknown(params, allowed: set[str]) -> dict[str, list[str]]:
    """A 400's errors for query parameters the endpoint does not have (as messaging.api)."""
    return {
        name: [f"Unknown parameter; use one of: {', '.join(sorted(allowed))}."]
        for name in sorted(set(params) - allowed)
    }


class IsAdmin(permissions.IsAdminUser):
    message = "Only administrators manage campaigns."


def filter_campaigns(params) -> QuerySet[Campaign]:
    """The list's query parameters applied to every campaign; 400 on bad ones."""
    errors = refuse_unknown(params, LIST_PARAMETERS)
    campaigns = Campaign.objects.all()
    if "status" in params:
        if params["status"] not in CampaignStatus.values:
            errors["status"] = [f"Must be one of: {', '.join(CampaignStatus.values)}."]
        else:
            campaigns = campaigns.filter(status=params["status"])
    if errors:
        raise ValidationError(errors)
    ordering = parse_ordering(params.get("ordering", ""), CAMPAIGN_ORDERINGS)
    return campaigns.order_by(*ordering, "-created_at", "-pk")


# Each action, and a change (PATCH), is a 409 when the campaign's state does not allow it.
ACTION_SCHEMA = extend_schema(
    request=None, responses={200: CampaignDetailSerializer, 409: CONFLICT}
)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=CampaignStatus.values),
            ordering_parameter(CAMPAIGN_ORDERINGS, "-created_at (newest first)"),
        ],
        description="Campaigns, paginated. An unknown query parameter is a 400.",
    ),
    partial_update=extend_schema(responses={200: CampaignDetailSerializer, 409: CONFLICT}),
    launch=ACTION_SCHEMA,
    pause=ACTION_SCHEMA,
    resume=ACTION_SCHEMA,
    cancel=ACTION_SCHEMA,
    test_send=extend_schema(
        request=SendTestSerializer, responses={202: SentTestSerializer, 409: CONFLICT}
    ),
    duplicate=extend_schema(request=None, responses={201: CampaignDetailSerializer}),
    rehearse=extend_schema(
        request=RehearseSerializer, responses={202: RehearsalSerializer, 409: CONFLICT}
    ),
    rehearsals=extend_schema(responses=RehearsalSerializer(many=True)),
    rehearsal_detail=extend_schema(
        parameters=[OpenApiParameter("rehearsal_id", int, OpenApiParameter.PATH)],
        responses=RehearsalSerializer,
    ),
    recipients=extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=RecipientState.values),
            ordering_parameter(RECIPIENT_ORDERINGS, "id (launch order)"),
        ],
        responses=RecipientSerializer(many=True),
    ),
)
class CampaignViewSet(
    IdsInRange,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsAdmin]
    pagination_class = Pagination
    http_method_names = ["get", "post", "patch", "head", "options"]  # no PUT, no DELETE

    def get_serializer_class(self):
        return CampaignRowSerializer if self.action == "list" else CampaignDetailSerializer

    def get_queryset(self) -> QuerySet[Campaign]:
        campaigns = (
            filter_campaigns(self.request.query_params)
            if self.action == "list"
            else Campaign.objects.all()
        )
        if self.action != "list":
            campaigns = campaigns.order_by("-created_at", "-pk")
        return campaigns.select_related("created_by")

    def _render(self, campaign: Campaign, status_code: int = status.HTTP_200_OK) -> Response:
        campaign = self.get_queryset().get(pk=campaign.pk)  # fresh, with its joins
        serializer = CampaignDetailSerializer(campaign, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        context = {**self.get_serializer_context(), "headlines": reports.headlines(page)}
        rows = CampaignRowSerializer(page, many=True, context=context).data
        return self.get_paginated_response(rows)

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = {"sender": settings.TXTSYNC_FROM, **serializer.validated_data}
        campaign = services.create_draft(fields, created_by=request.user)
        response = self._render(campaign, status.HTTP_201_CREATED)
        response["Location"] = reverse(
            "api-campaigns:campaign-detail", args=[campaign.pk], request=request
        )
        return response

    def update(self, request: Request, *args, **kwargs) -> Response:
        campaign = self.get_object()
        serializer = self.get_serializer(campaign, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        with campaign_errors():
            services.update_draft(campaign, dict(serializer.validated_data))
        return self._render(campaign)

    @action(detail=True, methods=["post"])
    def launch(self, request: Request, pk=None) -> Response:
        with campaign_errors():
            campaign = services.launch(self.get_object())
        return self._render(campaign)

    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk=None) -> Response:
        with campaign_errors():
            campaign = services.pause(self.get_object())
        return self._render(campaign)

    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk=None) -> Response:
        with campaign_errors():
            campaign = services.resume(self.get_object())
        return self._render(campaign)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        with campaign_errors():
            campaign = services.cancel(self.get_object())
        return self._render(campaign)

    @action(
        detail=True, methods=["post"], url_path="test-send", serializer_class=SendTestSerializer
    )
    def test_send(self, request: Request, pk=None) -> Response:
        campaign = self.get_object()
        serializer = SendTestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with campaign_errors():
            message = services.send_test(
                campaign, data["number"], contact=data.get("contact"), author=request.user
            )
        return Response(SentTestSerializer(message).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    def duplicate(self, request: Request, pk=None) -> Response:
        copy = services.duplicate(self.get_object(), created_by=request.user)
        response = self._render(copy, status.HTTP_201_CREATED)
        response["Location"] = reverse(
            "api-campaigns:campaign-detail", args=[copy.pk], request=request
        )
        return response

    @action(detail=True, methods=["post"], serializer_class=RehearseSerializer)
    def rehearse(self, request: Request, pk=None) -> Response:
        campaign = self.get_object()
        serializer = RehearseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with campaign_errors():
            asked = rehearsal.start(campaign, serializer.validated_data, created_by=request.user)
        response = Response(RehearsalSerializer(asked).data, status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse(
            "api-campaigns:campaign-rehearsal", args=[campaign.pk, asked.pk], request=request
        )
        return response

    @action(detail=True, methods=["get"], serializer_class=RehearsalSerializer)
    def rehearsals(self, request: Request, pk=None) -> Response:
        rehearsals = self.get_object().rehearsals.select_related("campaign", "created_by")
        paginator = Pagination()
        page = paginator.paginate_queryset(rehearsals, request, view=self)
        return paginator.get_paginated_response(RehearsalSerializer(page, many=True).data)

    @action(
        detail=True,
        methods=["get"],
        url_path=r"rehearsals/(?P<rehearsal_id>[0-9]+)",
        url_name="rehearsal",
        serializer_class=RehearsalSerializer,
    )
    def rehearsal_detail(self, request: Request, pk=None, rehearsal_id=None) -> Response:
        rehearsals = self.get_object().rehearsals.select_related("campaign", "created_by")
        return Response(RehearsalSerializer(get_object_or_404(rehearsals, pk=rehearsal_id)).data)

    @action(detail=True, methods=["get"], serializer_class=RecipientSerializer)
    def recipients(self, request: Request, pk=None) -> Response:
        campaign = self.get_object()
        params = request.query_params
        errors = refuse_unknown(params, RECIPIENT_PARAMETERS)
        recipients = Recipient.objects.filter(campaign=campaign)
        if "state" in params:
            if params["state"] not in RecipientState.values:
                errors["state"] = [f"Must be one of: {', '.join(RecipientState.values)}."]
            else:
                recipients = recipients.filter(state=params["state"])
        if errors:
            raise ValidationError(errors)
        ordering = parse_ordering(params.get("ordering", ""), RECIPIENT_ORDERINGS)
        recipients = recipients.select_related("contact", "message").order_by(*ordering, "pk")
        paginator = Pagination()
        page = paginator.paginate_queryset(recipients, request, view=self)
        return paginator.get_paginated_response(RecipientSerializer(page, many=True).data)
