"""Canned replies: prepared answers an agent inserts in the composer by typing `/`.

Each is a person's own (owner = that user) or the team's (owner None). Everyone sees
their own and the team's; agents manage their own, admins also the team's. Bodies may hold
merge fields ({FirstName}, {FirstName|there}: messaging.merge, rendered for the
conversation's contact) and placeholders the agent fills in before sending:
`[[what to write]]`, e.g. "See you at [[time]]". A reply still holding a placeholder is
never sent (conversations.reply refuses it).
"""

import re

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext

from accounts.roles import is_admin
from contacts.models import Contact
from messaging.merge import render
from messaging.models import CannedReply

# [[time]], [[pickup address]]: one line, no brackets inside, at most 40 characters.
PLACEHOLDER = re.compile(r"\[\[([^\[\]\n]{1,40})\]\]")
SEARCH_LIMIT = 20
PREVIEW_LENGTH = 90


class CannedReplyRefused(Exception):
    """A change this user may not make, or that would break a rule; the reason to show."""


class NotAllowed(CannedReplyRefused):
    """The user may see this reply but not change it (an agent and a team reply)."""


def unfilled(body: str) -> list[str]:
    """The placeholders still in `body`, in order (e.g. ["[[time]]"])."""
    return [match[0] for match in PLACEHOLDER.finditer(body)]


def visible_to(user) -> QuerySet[CannedReply]:
    """The user's own replies and the team's, by title."""
    return CannedReply.objects.filter(Q(owner=None) | Q(owner=user)).order_by("title", "pk")


def get_visible(user, pk: int) -> CannedReply:
    """The reply, if this user may see it; CannedReply.DoesNotExist otherwise (another
    person's own replies are not theirs to know of)."""
    return visible_to(user).get(pk=pk)


def can_edit(user, reply: CannedReply) -> bool:
    if reply.owner_id is None:
        return is_admin(user)
    return reply.owner_id == user.pk


def search(user, text: str = "", limit: int = SEARCH_LIMIT) -> list[CannedReply]:
    """Replies whose title or body holds `text`; titles starting with it first."""
    found = visible_to(user)
    text = text.strip()
    if text:
        found = found.filter(Q(title__icontains=text) | Q(body__icontains=text)).annotate(
            rank=Case(
                When(title__istartswith=text, then=Value(0)),
                When(title__icontains=text, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        found = found.order_by("rank", "title", "pk")
    return list(found[:limit])


def rendered(reply: CannedReply, contact: Contact) -> str:
    """The body with the contact's merge fields filled (placeholders stay)."""
    return render(reply.body, contact)


def preview(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


def _check(user, title: str, body: str, team: bool) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise CannedReplyRefused(gettext("A canned reply needs a title and a text."))
    if team and not is_admin(user):
        raise NotAllowed(gettext("Only administrators can manage the team's canned replies."))
    return title, body


def _save(reply: CannedReply) -> CannedReply:
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError as clash:
        raise CannedReplyRefused(
            gettext("There is already a canned reply called “%(title)s” there.")
            % {"title": reply.title}
        ) from clash
    return reply


def create(user, *, title: str, body: str, team: bool = False) -> CannedReply:
    title, body = _check(user, title, body, team)
    return _save(CannedReply(owner=None if team else user, title=title, body=body))


def update(user, reply: CannedReply, *, title: str, body: str) -> CannedReply:
    if not can_edit(user, reply):
        raise NotAllowed(gettext("You cannot change this canned reply."))
    reply.title, reply.body = _check(user, title, body, reply.owner_id is None)
    return _save(reply)


def delete(user, reply: CannedReply) -> None:
    if not can_edit(user, reply):
        raise NotAllowed(gettext("You cannot delete this canned reply."))
    reply.delete()
