from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

SECTIONS = {
    "inbox": ("Inbox", "Conversations with your contacts will appear here."),
    "contacts": ("Contacts", "Your TxtSync contacts, tags and opt-outs will appear here."),
    "campaigns": ("Campaigns", "Messages sent to many contacts at once will appear here."),
    "settings": ("Settings", "Your TxtSync connection, webhooks and team settings."),
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@login_required
def section(request: HttpRequest, section: str) -> HttpResponse:
    title, empty_text = SECTIONS[section]
    return render(
        request, "section.html", {"section": section, "title": title, "empty_text": empty_text}
    )
