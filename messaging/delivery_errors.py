"""Why TxtSync did not deliver an SMS, in words: the one table of TxtSync's ErrorCode
numbers, used wherever a failure is shown (the thread, the campaign report, its CSV).

The contract leaves the numbers to the provider (docs/txtsync-contract.md, "Status
numbers and error codes of SMS are the sandbox's own table"); this is that table
(docs/sandbox.md, "Status and ErrorCode"). A code not in it is shown as a number.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

ERROR_CODES = {
    1: _("the number is invalid or unknown"),
    2: _("the contact has opted out"),
    3: _("a network failure"),
    4: _("it expired before it could be delivered"),
}


def not_delivered_reason(code: int | None) -> str:
    """ "not delivered: a network failure", in the user's language."""
    if code is None or code == 0:  # 0: "none", TxtSync gave no reason
        return gettext("not delivered")
    reason = ERROR_CODES.get(code)
    if reason is None:
        return gettext("not delivered (TxtSync code %(code)s)") % {"code": code}
    return gettext("not delivered: %(reason)s") % {"reason": reason}
