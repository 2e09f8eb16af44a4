"""The contacts pages. Thin: contacts.forms parses input, contacts.services changes state."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts import policy
from accounts.models import TeamPolicy
from accounts.roles import admins_only, is_admin
from audit.log import contact_target, record
from audit.models import Action
from contacts import services
from contacts.forms import (
    BulkTagForm,
    ConsentForm,
    ContactFilterForm,
    ContactForm,
    CustomFieldLabelsForm,
    TagRenameForm,
)
from contacts.models import (
    CUSTOM_FIELDS,
    FIELD_LABELS,
    TXTSYNC_FIELDS,
    Contact,
    CustomFieldLabel,
    OptOutSource,
    Tag,
)

PER_PAGE = 50
# Pagination: OFFSET/LIMIT pages with a *bounded* count. Counting every match would read
# the whole filtered set on every page view (100k rows for an unfiltered list); counting
# at most COUNT_CAP + 1 rows costs the same however big the table grows, and "10,000+"
# tells a person as much as "103,487" would. Next/previous need no count at all: each
# page reads one row more than it shows. Keyset pagination would also make very deep
# pages cheap, but nobody pages 200 times deep: they search or filter instead, and
# numbered links with a simple ?page= are easier to share and to follow.
COUNT_CAP = 10_000
# What a row of the list shows (a column missing here would cost a query per row).
LIST_COLUMNS = [
    "full_name",
    "mobile_number",
    "company_name",
    "allow_sms",
    "marketing_consent",
    "overall_rating",
    "last_communication_date",
    "sync_state",
    "sync_error",
]


staff_required = admins_only(gettext_lazy("Only administrators manage tags and custom fields."))
BULK_TAG_REFUSED = gettext_lazy(
    "Your administrators have turned off bulk tagging for agents (Settings → Security); "
    "tag contacts one at a time on their pages."
)


def grouped(count: int) -> str:
    """A count with the user's locale's thousands separator: "10,000", "10.000"."""
    return number_format(count, force_grouping=True)


def list_url(params: dict[str, str], page: int | str | None = None) -> str:
    query = dict(params)
    if page and str(page) != "1":
        query["page"] = str(page)
    return reverse("contacts") + (f"?{urlencode(query)}" if query else "")


# --- The list ----------------------------------------------------------------------------


@dataclass
class ContactPage:
    """One page of contacts, with a count that stops at COUNT_CAP."""

    rows: list[Contact]
    number: int
    has_next: bool
    total: int  # exact when not capped
    capped: bool
    params: dict[str, str]

    @property
    def start(self) -> int:
        return (self.number - 1) * PER_PAGE + 1 if self.rows else 0

    @property
    def end(self) -> int:
        return (self.number - 1) * PER_PAGE + len(self.rows)

    @property
    def total_text(self) -> str:
        return f"{grouped(COUNT_CAP)}+" if self.capped else grouped(self.total)

    @property
    def num_pages(self) -> int | None:
        return None if self.capped else max(1, -(-self.total // PER_PAGE))

    @property
    def previous_url(self) -> str | None:
        return list_url(self.params, self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return list_url(self.params, self.number + 1) if self.has_next else None

    def links(self) -> list[tuple[int, str] | None]:
        """Numbered links around this page, the first and the last known; None is a gap."""
        # With a capped count the true last page is unknown: "Next" goes on from here.
        last = self.num_pages or (self.number + 1 if self.has_next else self.number)
        window = range(max(1, self.number - 2), min(last, self.number + 2) + 1)
        shown = sorted({1, last, *window})
        items: list[tuple[int, str] | None] = []
        for number in shown:
            if items and items[-1] and items[-1][0] < number - 1:
                items.append(None)
            items.append((number, list_url(self.params, number)))
        return items


def paginate(contacts: QuerySet[Contact], number: int, params: dict[str, str]) -> ContactPage:
    total = contacts.order_by().values("pk")[: COUNT_CAP + 1].count()
    offset = (number - 1) * PER_PAGE
    rows = list(
        contacts.only(*LIST_COLUMNS).prefetch_related("tags")[offset : offset + PER_PAGE + 1]
    )
    return ContactPage(
        rows=rows[:PER_PAGE],
        number=number,
        has_next=len(rows) > PER_PAGE,
        total=min(total, COUNT_CAP),
        capped=total > COUNT_CAP,
        params=params,
    )


def page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    tags = list(Tag.objects.only("pk", "name"))
    filters = ContactFilterForm(request.GET, tags=tags)
    params = filters.params()
    contacts = filters.contacts().order_by(*filters.ordering())
    page = paginate(contacts, page_number(request.GET.get("page")), params)
    sort = filters.value("sort") or "name"
    team = None if is_admin(request.user) else TeamPolicy.current()  # one query for both
    return render(
        request,
        "contacts/list.html",
        {
            "filters": filters,
            "filter_params": params,
            "page": page,
            "tags": tags,
            "sort_column": sort.lstrip("-"),
            "sort_direction": "descending" if sort.startswith("-") else "ascending",
            "may_export": policy.may_export_contacts(request.user, team),
            "may_bulk_tag": policy.may_bulk_tag(request.user, team),
        },
    )


@login_required
@require_POST
def bulk_tags(request: HttpRequest) -> HttpResponse:
    """Add or remove a tag on the page's selection or on everything matching the filter.

    "All matching" re-runs the filter from the submitted parameters, so it covers every
    page, not only the rows that were on screen; with an invalid filter it changes
    nothing (the list shows why).
    """
    if not policy.may_bulk_tag(request.user):
        raise PermissionDenied(BULK_TAG_REFUSED)
    filters = ContactFilterForm(request.POST, tags=list(Tag.objects.only("pk", "name")))
    back = list_url(filters.params(), page_number(request.POST.get("page")))
    form = BulkTagForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    if data["scope"] == "all" and not filters.valid:
        messages.error(
            request,
            _("Nothing was changed: the filter is not valid. %(errors)s")
            % {"errors": filters.error_text()},
        )
        return redirect(back)
    if data["scope"] == "all":
        contacts = filters.contacts()
    else:
        contacts = services.visible().filter(pk__in=data["ids"])
    name = data["tag_name"].strip()
    if data["action"] == "add":
        count = services.add_tags(contacts, services.tags_named([name]))
        messages.success(
            request,
            ngettext(
                "Tagged %(count)s contact with “%(name)s”.",
                "Tagged %(count)s contacts with “%(name)s”.",
                count,
            )
            % {"count": grouped(count), "name": name},
        )
        return redirect(back)
    tag = Tag.objects.filter(name_folded=name.casefold()).first()
    if tag is None:
        messages.error(
            request,
            _("There is no tag named “%(name)s”, so nothing was removed.") % {"name": name},
        )
        return redirect(back)
    count = services.remove_tags(contacts, [tag])
    messages.success(
        request,
        ngettext(
            "Removed “%(name)s” from %(count)s contact.",
            "Removed “%(name)s” from %(count)s contacts.",
            count,
        )
        % {"count": grouped(count), "name": tag.name},
    )
    return redirect(back)


# --- One contact ----------------------------------------------------------------------------


def visible_contact(pk: int) -> Contact:
    return get_object_or_404(services.visible(), pk=pk)


@login_required
def contact_detail(
    request: HttpRequest, pk: int, consent_form: ConsentForm | None = None
) -> HttpResponse:
    contact = get_object_or_404(services.visible().prefetch_related("tags"), pk=pk)
    labels = {**FIELD_LABELS, **services.custom_field_labels()}
    return render(
        request,
        "contacts/detail.html",
        {
            "contact": contact,
            "fields": [
                (labels[name], getattr(contact, name))
                for name in TXTSYNC_FIELDS
                if name not in CUSTOM_FIELDS
            ],
            "custom_fields": [(labels[name], getattr(contact, name)) for name in CUSTOM_FIELDS],
            "history": contact.opt_out_events.select_related("actor"),
            "consent_history": contact.consent_events.select_related("actor"),
            "consent_form": consent_form or ConsentForm(auto_id="consent_%s"),
        },
    )


@login_required
def contact_create(request: HttpRequest) -> HttpResponse:
    form = ContactForm(
        request.POST if request.method == "POST" else None,
        custom_labels=services.custom_field_labels(),
        creating=True,
    )
    if form.is_bound and form.is_valid():
        try:
            contact = services.create_contact(
                form.contact_fields(),
                tag_names=form.cleaned_data["tags"],
                allow_sms=form.cleaned_data["allow_sms"],
                source=OptOutSource.AGENT,
                actor=request.user,
            )
        except services.ContactInvalid as error:
            form.show_errors(error)
        else:
            messages.success(request, _("Added %(contact)s.") % {"contact": contact})
            return redirect("contact", pk=contact.pk)
    return render(request, "contacts/form.html", {"form": form, "contact": None})


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(services.visible().prefetch_related("tags"), pk=pk)
    form = ContactForm(
        request.POST if request.method == "POST" else None,
        initial=ContactForm.initial_for(contact),
        custom_labels=services.custom_field_labels(),
        creating=False,
    )
    if form.is_bound and form.is_valid():
        fields = form.contact_fields(changed_only=True)
        tag_names = form.cleaned_data["tags"] if "tags" in form.changed_data else None
        if not fields and tag_names is None:
            messages.info(request, _("Nothing changed."))
            return redirect("contact", pk=contact.pk)
        try:
            services.update_contact(contact, fields, tag_names=tag_names, actor=request.user)
        except services.ContactInvalid as error:
            form.show_errors(error)
        else:
            messages.success(request, _("Saved %(contact)s.") % {"contact": contact})
            return redirect("contact", pk=contact.pk)
    return render(request, "contacts/form.html", {"form": form, "contact": contact})


@login_required
@require_POST
def contact_allow_sms(request: HttpRequest, pk: int) -> HttpResponse:
    contact = visible_contact(pk)
    allow = request.POST.get("allow") == "yes"
    changed = services.set_allow_sms(
        contact,
        allow,
        source=OptOutSource.AGENT,
        actor=request.user,
        reason=request.POST.get("reason", "").strip(),
    )
    if changed and allow:
        record(
            Action.OPT_OUT_OVERRIDE,
            request=request,
            target=contact_target(contact.pk),
            reason=request.POST.get("reason", "").strip()[:300],
        )
    if not changed:
        text = (
            _("%(contact)s was already opted in.")
            if allow
            else _("%(contact)s was already opted out.")
        )
        messages.info(request, text % {"contact": contact})
    elif allow:
        messages.success(
            request,
            _("%(contact)s is opted back in: they can receive SMS again.") % {"contact": contact},
        )
    else:
        messages.success(
            request,
            _("%(contact)s is opted out: nobody can send them SMS.") % {"contact": contact},
        )
    return redirect("contact", pk=contact.pk)


@login_required
@require_POST
def contact_consent(request: HttpRequest, pk: int) -> HttpResponse:
    """An agent records marketing consent given or withdrawn (anyone signed in, as the
    opt-out: agents take consent on the phone)."""
    contact = visible_contact(pk)
    form = ConsentForm(request.POST, auto_id="consent_%s")
    if not form.is_valid():
        response = contact_detail(request, pk, consent_form=form)
        response.status_code = 400
        return response
    try:
        event = services.set_marketing_consent(
            contact,
            form.cleaned_data["consent"],
            source=form.cleaned_data["source"],
            actor=request.user,
            wording=form.cleaned_data["wording"],
        )
    except services.ContactInvalid as error:
        messages.error(request, " ".join(error.errors.values()))
    else:
        if event is None:
            messages.info(request, _("Nothing changed: that consent was recorded already."))
        else:
            messages.success(
                request,
                _("Recorded: marketing consent %(consent)s for %(contact)s.")
                % {"consent": event.get_consent_display(), "contact": contact},
            )
    return redirect("contact", pk=contact.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = visible_contact(pk)
    if request.method == "POST":
        target = contact_target(contact.pk)  # before: a contact TxtSync never knew loses its pk
        services.delete_contact(contact)
        record(Action.DELETE, request=request, target=target)
        messages.success(request, _("Deleted %(contact)s.") % {"contact": contact})
        return redirect("contacts")
    return render(request, "contacts/confirm_delete.html", {"contact": contact})


# --- Tags and custom fields (staff) ----------------------------------------------------------


def render_tags_page(
    request: HttpRequest, labels_form: CustomFieldLabelsForm | None = None
) -> HttpResponse:
    if labels_form is None:
        labels_form = CustomFieldLabelsForm(
            initial=dict(CustomFieldLabel.objects.values_list("field", "label"))
        )
    tags = Tag.objects.annotate(
        contact_count=Count("contacts", filter=Q(contacts__deleted_at__isnull=True))
    ).order_by("name_folded")
    return render(request, "contacts/tags.html", {"tags": tags, "labels_form": labels_form})


@staff_required
def tag_list(request: HttpRequest) -> HttpResponse:
    return render_tags_page(request)


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def tag_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tag = get_object_or_404(Tag, pk=pk)
    form = TagRenameForm(
        request.POST if request.method == "POST" else None, tag=tag, initial={"name": tag.name}
    )
    if form.is_bound and form.is_valid():
        old_name, new_name = tag.name, form.cleaned_data["name"]
        if new_name != old_name:
            services.rename_tag(tag, new_name)
            messages.success(
                request, _("Renamed “%(old)s” to “%(new)s”.") % {"old": old_name, "new": new_name}
            )
        return redirect("tags")
    return render(request, "contacts/tag_edit.html", {"tag": tag, "form": form})


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def tag_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tag = get_object_or_404(Tag, pk=pk)
    if request.method == "POST":
        services.delete_tag(tag)
        record(Action.DELETE, request=request, target=f"tag {tag.name}")
        messages.success(request, _("Deleted the tag “%(name)s”.") % {"name": tag.name})
        return redirect("tags")
    count = tag.contacts.filter(deleted_at__isnull=True).count()
    return render(request, "contacts/tag_confirm_delete.html", {"tag": tag, "count": count})


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def custom_fields(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect(reverse("tags") + "#fields")
    form = CustomFieldLabelsForm(request.POST)
    if not form.is_valid():
        return render_tags_page(request, form)
    services.set_custom_field_labels(form.cleaned_data)
    record(Action.SETTINGS, request=request, target="custom field labels", **form.cleaned_data)
    messages.success(request, _("Saved the custom field labels."))
    return redirect(reverse("tags") + "#fields")
