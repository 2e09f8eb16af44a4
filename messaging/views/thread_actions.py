"""The thread's send later (schedule, edit, cancel a reply) and the side panel's contact
edit (issue 14). Thin views: parse (messaging.thread_forms), call messaging.send_later
or contacts.services, answer as the inbox's other views do."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts import services as contacts
from messaging import activity, conversations, send_later
from messaging.conversations import ReplyRefused
from messaging.forms import ListFilters
from messaging.thread_forms import ContactPanelForm, EditScheduledForm, SendLaterForm
from messaging.views.inbox import (
    _back_to_thread,
    _conversation,
    _held_back,
    _is_htmx,
    _render_inbox,
    _tags,
    _thread_context,
    inbox_login_required,
)


def _at(when) -> str:
    return date_format(timezone.localtime(when), "DATETIME_FORMAT")


@inbox_login_required
@require_POST
def schedule(request: HttpRequest, pk: int) -> HttpResponse:
    """Send later: the composer's reply, stored to go at the time chosen."""
    conversation = _conversation(pk)
    senders = conversations.senders()
    form = SendLaterForm(request.POST, senders=senders)
    if form.is_valid():
        if (held := _held_back(request, conversation, form)) is not None:
            return held  # the send guard holds a scheduled reply back as it does a reply
        sender = form.cleaned_data["sender"] or None
        try:
            message = send_later.schedule(
                conversation, request.user, form.cleaned_data["body"], form.when, sender
            )
        except send_later.TimeRefused as refused:
            form.add_error("send_at", str(refused))
        except ReplyRefused as refused:
            form.add_error("body", str(refused))
        else:
            done = _("Scheduled for %(at)s.") % {"at": _at(message.scheduled_for)}
            if not _is_htmx(request):
                messages.success(request, done)
                return _back_to_thread(request, conversation)
            form = SendLaterForm(senders=senders, initial={"sender": sender})
            context = _thread_context(request, conversation, form) | {"scheduled_note": done}
            return render(request, "messaging/_reply_sent.html", context)
    if _is_htmx(request):
        context = _thread_context(request, conversation, form) | {"later_open": True}
        return render(request, "messaging/_composer.html", context)
    return _render_inbox(request, ListFilters.from_query(request.GET), conversation, form)


def _form_error(form) -> str:
    return next(iter(form.errors.values()))[0]


@inbox_login_required
@require_POST
def scheduled_edit(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    conversation = _conversation(pk)
    form = EditScheduledForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return _back_to_thread(request, conversation)
    try:
        message = send_later.edit(
            conversation, message_id, form.cleaned_data["body"], form.cleaned_data["send_at"]
        )
    except ReplyRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            _("Scheduled message saved: it goes %(at)s.") % {"at": _at(message.scheduled_for)},
        )
    return _back_to_thread(request, conversation)


@inbox_login_required
@require_POST
def scheduled_cancel(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    conversation = _conversation(pk)
    try:
        send_later.cancel(conversation, message_id, by=request.user)
    except ReplyRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Scheduled message cancelled: it will not be sent."))
    return _back_to_thread(request, conversation)


def _contact_changes(form: ContactPanelForm, contact, tags) -> tuple[dict, list[str] | None]:
    fields = {
        name: form.cleaned_data[name]
        for name in ("first_name", "last_name")
        if form.cleaned_data[name].strip() != getattr(contact, name)
    }
    names = form.cleaned_data["tags"]
    current = sorted(tag.name.casefold() for tag in tags)
    changed_tags = sorted(name.casefold() for name in names) != current
    return fields, names if changed_tags else None


@inbox_login_required
@require_POST
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Name and tags from the side panel, through the contacts writer (agents may edit
    contacts, as on the contact page). htmx: the form again with its errors, or a reload
    of the thread once saved."""
    conversation = _conversation(pk)
    contact = conversation.contact
    _all, carried = _tags(contact)
    form = ContactPanelForm(request.POST)
    if form.is_valid():
        fields, tag_names = _contact_changes(form, contact, carried)
        try:
            if fields or tag_names is not None:
                contacts.update_contact(contact, fields, tag_names=tag_names, actor=request.user)
                what = ",".join(
                    [*(["name"] if fields else []), *(["tags"] if tag_names is not None else [])]
                )
                activity.record(conversation, activity.CONTACT_EDITED, request.user, what)
        except contacts.ContactInvalid as invalid:
            for problem in invalid.errors.values():
                form.add_error(None, problem)
        else:
            messages.success(request, _("Saved %(contact)s.") % {"contact": contact})
            url = (
                reverse("inbox-thread", args=[conversation.pk])
                + ListFilters.from_query(request.GET).query()
            )
            if _is_htmx(request):
                return HttpResponse(status=204, headers={"HX-Redirect": url})
            return _back_to_thread(request, conversation)
    if _is_htmx(request):
        context = {
            "conversation": conversation,
            "contact": contact,
            "contact_form": form,
            "list_query": ListFilters.from_query(request.GET).query(),
        }
        return render(request, "messaging/_contact_edit.html", context)  # htmx swaps a 200
    messages.error(request, _form_error(form))
    return _back_to_thread(request, conversation)
