"""`{{ reason|reason_label }}`: why a recipient is left out or skipped, in the user's
language. The reason is stored as campaigns.audience.Reason's (English) value; anything
else (e.g. TxtSync's own error text) is shown as it is."""

from django import template
from django.utils.translation import pgettext_lazy

from campaigns.audience import Reason

register = template.Library()

LABELS = {
    Reason.OPTED_OUT: pgettext_lazy("recipients", "opted out"),
    Reason.EXCLUDED_TAG: pgettext_lazy("recipients", "excluded tag"),
    Reason.INVALID_NUMBER: pgettext_lazy("recipients", "invalid number"),
    Reason.DUPLICATE: pgettext_lazy("recipients", "duplicate"),
    Reason.EMPTY_MESSAGE: pgettext_lazy("recipients", "empty message"),
    Reason.SUPPRESSED: pgettext_lazy("recipients", "erased and suppressed (GDPR)"),
    Reason.NO_CONSENT: pgettext_lazy("recipients", "no marketing consent"),
    Reason.RECENTLY_SENT: pgettext_lazy("recipients", "sent a campaign recently (frequency cap)"),
    Reason.OPEN_CONVERSATION: pgettext_lazy("recipients", "in an open conversation"),
    "skipped": pgettext_lazy("recipients", "skipped"),
}


@register.filter
def reason_label(reason: str) -> str:
    return LABELS.get(reason, reason)
