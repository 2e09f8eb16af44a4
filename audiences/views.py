"""The segment builder pages. Thin: audiences.forms reads the rows, audiences.conditions
validates and compiles them, audiences.segments saves. Who may do what: segments.py."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audiences import conditions, forms, segments
from audiences.models import Segment
from audit.log import record
from audit.models import Action


def builder_context(segment: Segment | None) -> dict:
    labels = conditions.field_labels()
    ops: dict[str, str] = {}
    for kind, _label in conditions.FIELDS.values():
        ops.update({op: str(label) for op, label in kind.ops.items()})
    return {
        "segment": segment,
        "fields": [
            {
                "name": name,
                "label": labels[name],
                "ops": ",".join(kind.ops),
                "value_ops": ",".join(op for op in kind.ops if kind.takes_value(op)),
                "hint": str(forms.HINTS[kind.value]),
                "choices": forms.choices_of(name),
            }
            for name, (kind, _label) in conditions.FIELDS.items()
        ],
        "ops": ops,
        "choice_lists": [
            {"kind": kind, "options": [(code, str(label)) for code, label in options]}
            for kind, options in forms.CHOICES.items()
        ],
    }


@login_required
def segment_list(request: HttpRequest) -> HttpResponse:
    rows = [
        {"segment": segment, "may_change": segments.may_change(request.user, segment)}
        for segment in Segment.objects.select_related("created_by")
    ]
    return render(request, "audiences/list.html", {"rows": rows})


def changeable(request: HttpRequest, pk: int) -> Segment:
    segment = get_object_or_404(Segment, pk=pk)
    if not segments.may_change(request.user, segment):
        raise PermissionDenied(_("Only its creator or an administrator changes this segment."))
    return segment


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def segment_create(request: HttpRequest) -> HttpResponse:
    return edit_page(request, None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return edit_page(request, changeable(request, pk))


def edit_page(request: HttpRequest, segment: Segment | None) -> HttpResponse:
    document = segment.conditions if segment else {"match": "all", "conditions": []}
    grouped = forms.has_groups(document)  # groups are edited through the API only
    if request.method == "POST":
        form = forms.SegmentForm(request.POST)
        rows = forms.rows_from(request.POST)
        problems: list[str] = []
        if form.is_valid():
            try:
                new_document = document if grouped else forms.document_from(request.POST)
                saved = segments.save(
                    segment or Segment(),
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    document=new_document,
                    user=request.user,
                )
            except conditions.SegmentInvalid as error:
                problems = error.errors
            else:
                messages.success(request, _("Saved the segment “%(name)s”.") % {"name": saved})
                return redirect(reverse("contacts") + f"?segment={saved.pk}")
    else:
        initial = {"match": document.get("match", "all")}
        if segment:
            initial |= {"name": segment.name, "description": segment.description}
        form = forms.SegmentForm(initial=initial)
        rows, problems = forms.rows_for(document), []
    context = builder_context(segment) | {
        "form": form,
        "rows": rows,
        "problems": problems,
        "grouped": grouped,
        "count": None if request.method == "POST" or not segment else live_count(document),
    }
    return render(request, "audiences/form.html", context)


def live_count(document: dict) -> dict:
    try:
        return {"count": segments.count(document), "errors": []}
    except conditions.SegmentInvalid as error:
        return {"count": None, "errors": error.errors}


@login_required
@require_POST
def segment_count(request: HttpRequest) -> HttpResponse:
    """The builder's live count (htmx): the posted conditions, counted now."""
    try:
        result = live_count(forms.document_from(request.POST))
    except conditions.SegmentInvalid as error:
        result = {"count": None, "errors": error.errors}
    return render(request, "audiences/_count.html", {"count": result})


@login_required
@require_POST
def segment_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    copy = segments.duplicate(get_object_or_404(Segment, pk=pk), user=request.user)
    messages.success(request, _("Made a copy: “%(name)s”.") % {"name": copy.name})
    return redirect("segment-edit", pk=copy.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    segment = changeable(request, pk)
    if request.method == "POST":
        name = segment.name
        segment.delete()
        record(Action.DELETE, request=request, target=f"segment {name}")
        messages.success(request, _("Deleted the segment “%(name)s”.") % {"name": name})
        return redirect("segments")
    return render(request, "audiences/confirm_delete.html", {"segment": segment})
