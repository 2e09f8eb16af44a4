"""Canned replies in the app (thin views over messaging.canned): the page where everyone
manages their own and admins also the team's, and the search the composer's `/` list uses.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import is_admin
from audit.log import record
from audit.models import Action
from messaging import canned
from messaging.models import CannedReply, Conversation
from messaging.views.inbox import inbox_login_required


class CannedReplyForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=80)
    body = forms.CharField(
        label=gettext_lazy("Text"),
        max_length=1600,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Merge fields: {FirstName}, {FirstName|there} (used when the contact has no "
            "first name), {LastName}, {FullName}, {CompanyName}. Placeholders to fill in "
            "before sending: [[time]]."
        ),
    )
    team = forms.BooleanField(
        label=gettext_lazy("For the whole team"),
        required=False,
        help_text=gettext_lazy("Everyone can insert it; only administrators can change it."),
    )

    def __init__(self, *args, can_share: bool = False, **kwargs):
        super().__init__(*args, label_suffix="", **kwargs)
        if not can_share:
            del self.fields["team"]


def _reply_or_404(request: HttpRequest, pk: int) -> CannedReply:
    try:
        return canned.get_visible(request.user, pk)
    except CannedReply.DoesNotExist as missing:
        raise Http404(_("No such canned reply.")) from missing


def _editable_or_403(request: HttpRequest, pk: int) -> CannedReply:
    reply = _reply_or_404(request, pk)
    if not canned.can_edit(request.user, reply):
        raise PermissionDenied(_("Only administrators can change the team's canned replies."))
    return reply


def _page(request: HttpRequest, form: CannedReplyForm, status: int = 200) -> HttpResponse:
    replies = list(canned.visible_to(request.user))
    context = {
        "form": form,
        "mine": [reply for reply in replies if reply.owner_id is not None],
        "team": [reply for reply in replies if reply.owner_id is None],
        "can_manage_team": is_admin(request.user),
    }
    return render(request, "messaging/canned_replies.html", context, status=status)


@inbox_login_required
@require_http_methods(["GET", "POST"])
def canned_replies(request: HttpRequest) -> HttpResponse:
    """The list (yours, the team's) and the form for a new one."""
    can_share = is_admin(request.user)
    if request.method == "GET":
        return _page(request, CannedReplyForm(can_share=can_share))
    form = CannedReplyForm(request.POST, can_share=can_share)
    if form.is_valid():
        data = form.cleaned_data
        try:
            reply = canned.create(
                request.user, title=data["title"], body=data["body"], team=data.get("team", False)
            )
        except canned.CannedReplyRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("Canned reply “%(title)s” saved.") % {"title": reply})
            return redirect("canned-replies")
    return _page(request, form, status=400)


@inbox_login_required
@require_http_methods(["GET", "POST"])
def canned_reply_edit(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _editable_or_403(request, pk)
    initial = {"title": reply.title, "body": reply.body}
    form = CannedReplyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            canned.update(
                request.user,
                reply,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
            )
        except canned.CannedReplyRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("Canned reply “%(title)s” saved.") % {"title": reply})
            return redirect("canned-replies")
    status = 400 if form.errors else 200
    context = {"form": form, "reply": reply}
    return render(request, "messaging/canned_reply_edit.html", context, status=status)


@inbox_login_required
@require_POST
def canned_reply_delete(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _editable_or_403(request, pk)
    title, team = reply.title, reply.owner_id is None
    canned.delete(request.user, reply)
    record(Action.DELETE, request=request, target=f"canned reply {title}", team=team)
    messages.success(request, _("Canned reply “%(title)s” deleted.") % {"title": title})
    return redirect("canned-replies")


@inbox_login_required
@require_GET
def canned_reply_search(request: HttpRequest) -> JsonResponse:
    """JSON for the composer's `/` list: the user's own and the team's replies matching
    `q`, with the text rendered for conversation `c`'s contact (merge fields filled,
    placeholders kept). Plain text: the page inserts it as text, never as HTML."""
    conversation = None
    if request.GET.get("c", "").isdigit():
        conversation = get_object_or_404(
            Conversation.objects.select_related("contact"), pk=int(request.GET["c"])
        )
    results = []
    for reply in canned.search(request.user, request.GET.get("q", "")[:80]):
        text = canned.rendered(reply, conversation.contact) if conversation else reply.body
        results.append(
            {
                "id": reply.pk,
                "title": reply.title,
                "text": text,
                "preview": canned.preview(text),
                "team": reply.owner_id is None,
            }
        )
    return JsonResponse({"results": results})
