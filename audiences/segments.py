"""Saved segments: who may change them, saving, duplicating, deleting, and the contacts
in one. Views and the API stay thin and call these; campaigns call `contacts_in`.

Who may do what (docs/segments.md): everyone signed in sees and uses every segment and
creates new ones; a segment is changed or deleted by the person who created it or by an
admin.
"""

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.roles import is_admin
from audiences import conditions
from audiences.conditions import SegmentInvalid
from audiences.models import Segment
from contacts import segment_hook, services
from contacts.models import Contact

__all__ = [
    "SegmentInvalid", "contacts_in", "count", "duplicate", "may_change", "save", "whole_tags"
]  # fmt: skip


def may_change(user, segment: Segment) -> bool:
    return is_admin(user) or (
        segment.created_by_id is not None and segment.created_by_id == user.pk
    )


def q_for(segment: Segment) -> Q:
    """The segment's conditions as one Q; SegmentInvalid if they no longer hold (a tag it
    names was deleted), so a caller matches nothing rather than everything."""
    return conditions.compile_q(conditions.validate(segment.conditions))


def whole_tags(segment: Segment) -> list[int] | None:
    """The tag ids when the segment is exactly some whole tags (conditions.whole_tags):
    a campaign then goes as one send by tag. SegmentInvalid if it no longer holds."""
    return conditions.whole_tags(conditions.validate(segment.conditions))


def contacts_in(segment: Segment) -> QuerySet[Contact]:
    """The visible contacts in the segment now (evaluated at each call)."""
    return services.visible().filter(q_for(segment))


def count(segment_or_document) -> int:
    if isinstance(segment_or_document, Segment):
        return contacts_in(segment_or_document).count()
    return conditions.contacts_matching(segment_or_document).count()


@transaction.atomic
def save(segment: Segment, *, name: str, description: str = "", document, user=None) -> Segment:
    """Create or update a segment with validated conditions (SegmentInvalid otherwise)."""
    segment.conditions = conditions.validate(document)
    segment.name = name.strip()
    segment.description = description.strip()
    if segment.pk is None:
        segment.created_by = user
    segment.save()
    return segment


def duplicate(segment: Segment, *, user) -> Segment:
    copy = Segment(
        name=(_("%(name)s (copy)") % {"name": segment.name})[:100],
        description=segment.description,
        conditions=segment.conditions,
        created_by=user,
    )
    copy.save()
    return copy


# --- The contacts app's hook (contacts/segment_hook.py) ---------------------------------------


class ContactsProvider:
    def choices(self) -> list[tuple[int, str]]:
        return list(Segment.objects.values_list("pk", "name"))

    def q(self, segment_id: int) -> Q:
        segment = Segment.objects.filter(pk=segment_id).first()
        if segment is None:
            raise segment_hook.SegmentProblem(
                _("This segment no longer exists (it may have been deleted); choose another.")
            )
        try:
            return q_for(segment)
        except SegmentInvalid as error:
            raise segment_hook.SegmentProblem(
                _("The segment “%(name)s” cannot be used: %(errors)s")
                % {"name": segment.name, "errors": " ".join(error.errors)}
            ) from error
