"""TxtSync: the API client, its records and errors, and SMS segment counting.

Plain Python, no Django: see `txtsync.client` for how failures map to exceptions.
"""

from txtsync.client import OnResponse, TxtSyncClient, was_never_sent
from txtsync.errors import (
    AuthenticationError,
    ConnectionFailed,
    NotFoundError,
    OutcomeUnknown,
    ProtocolError,
    RateLimited,
    ServerError,
    TxtSyncError,
    ValidationError,
)
from txtsync.records import SMS, Contact, ContactFields, ContactSummary, Hook, SmsStatus

__all__ = [
    "SMS",
    "AuthenticationError",
    "ConnectionFailed",
    "Contact",
    "ContactFields",
    "ContactSummary",
    "Hook",
    "NotFoundError",
    "OnResponse",
    "OutcomeUnknown",
    "ProtocolError",
    "RateLimited",
    "ServerError",
    "SmsStatus",
    "TxtSyncClient",
    "TxtSyncError",
    "ValidationError",
    "was_never_sent",
]
