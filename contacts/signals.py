"""What contacts tells the rest of the product about contacts.

Sent inside the transaction that makes the change, after it is written, so a
receiver's own rows commit or roll back with it; work outside the database belongs in
`transaction.on_commit`. Contacts does not know who listens.
"""

from django.dispatch import Signal

# Contacts opted out of SMS: each recorded opt-out (AllowSMS turned off, whatever the
# source: a STOP keyword, an agent, the API, an import, TxtSync), one OptOutEvent per
# contact. A list, so a bulk change (an import) is announced in one go.
# sender=Contact, opt_outs=[<OptOutEvent with allow_sms=False>, ...]
contact_opted_out = Signal()

# A contact opted back in (AllowSMS turned on again, by an agent, START, the API or
# TxtSync), one OptOutEvent each, as contact_opted_out.
# sender=Contact, opt_ins=[<OptOutEvent with allow_sms=True>, ...]
contact_opted_in = Signal()

# A contact's marketing consent changed (given, withdrawn), whatever the source (a keyword,
# an agent, the API, an import), one ConsentEvent each, as contact_opted_out.
# sender=Contact, changes=[<ConsentEvent>, ...]
marketing_consent_changed = Signal()
