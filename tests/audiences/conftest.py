import datetime

import pytest
from django.utils import timezone

from contacts.models import Contact, MarketingConsent, Tag
from messaging.models import Conversation, ConversationStatus, Direction, Message


def text(contact, direction, days_ago):
    Message.objects.create(
        direction=direction,
        contact=contact,
        from_number="+447700900000",
        to_number=contact.mobile_number,
        body="Hi",
        message_date=timezone.now() - datetime.timedelta(days=days_ago),
    )


@pytest.fixture
def people(db):
    """Five contacts that differ in every way a segment looks at."""
    vip, north, staff = (Tag.objects.create(name=n) for n in ("VIP", "North", "Staff"))
    make = Contact.objects.create
    cleo = make(first_name="Cleo", city="Leeds", mobile_number="+447700900001",
                custom01="Gold plan", overall_rating=5, total_distinct_link_clicks=4,
                marketing_consent=MarketingConsent.GIVEN)  # fmt: skip
    dev = make(first_name="Dev", city="York", mobile_number="+447700900002",
               overall_rating=2, total_distinct_link_clicks=1,
               marketing_consent=MarketingConsent.WITHDRAWN)  # fmt: skip
    eve = make(first_name="Eve", mobile_number="+447700900003", allow_sms=False)
    finn = make(first_name="Finn", city="leeds", mobile_number="+447700900004",
                custom01="Silver")  # fmt: skip
    gone = make(first_name="Gone", city="Leeds", mobile_number="+447700900005",
                deleted_at=timezone.now())  # fmt: skip
    cleo.tags.add(vip, north)
    dev.tags.add(vip)
    eve.tags.add(staff)
    gone.tags.add(vip)
    Contact.objects.filter(pk=finn.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=400)
    )
    text(cleo, Direction.INBOUND, 3)
    text(dev, Direction.INBOUND, 60)
    text(dev, Direction.OUTBOUND, 2)
    Message.objects.create(  # a message with no contact must not break NOT EXISTS
        direction=Direction.INBOUND, from_number="+1", to_number="+2", body="?"
    )
    Conversation.objects.create(contact=cleo, status=ConversationStatus.OPEN)
    Conversation.objects.create(contact=dev, status=ConversationStatus.CLOSED)
    return {
        "tags": {"vip": vip.pk, "north": north.pk, "staff": staff.pk},
        "cleo": cleo, "dev": dev, "eve": eve, "finn": finn,
    }  # fmt: skip
