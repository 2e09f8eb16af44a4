"""Rehearsal stages: a throw-away account for one campaign rehearsal (docs/sandbox.md,
"Rehearsal stages").

`open_stage` makes an account and an application marked as a rehearsal, loads a copy of
the campaign's audience into it in one bulk step, and returns credentials for the
contract's API; the campaign's planned calls then reach it over HTTP like any client's.
Its network is instant: `play` settles each SMS as it is accepted (in the send's own
transaction), by the usual number-suffix rules (sandbox/messaging.py) and then by the
stage's options, seeded per number so a run is repeatable:

    {"failure_rate": 0.02, "reply_rate": 0.05, "opt_out_rate": 0.01, "seed": 1}

Then `answer` has some recipients of a delivered SMS reply or text STOP, by the inbound
code every texted SMS goes through (`messaging.receive_inbound`), so a STOP sets the
contact's AllowSMS false as TxtSync would. A stage never has webhook subscriptions
(sandbox/webhooks.py refuses them), so nothing flows back to txtcrm, and the console
shows only the default account.
`close_stage` deletes the account and every row it owns.
"""

import random
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from sandbox import messaging
from sandbox.models import (
    SMS,
    Account,
    ApiCall,
    Application,
    Campaign,
    Contact,
    Direction,
    ErrorCode,
    Link,
    Status,
    Tag,
    WebhookDelivery,
    WebhookSubscription,
)
from sandbox.services import Credentials, _hash_secret

OPTION_DEFAULTS = {"failure_rate": 0.02, "reply_rate": 0.05, "opt_out_rate": 0.01, "seed": 1}
# Fast enough never to slow a rehearsal: every planned call goes straight through.
RATE_LIMIT = (1_000_000, 1)
REPLIES = ("Thanks!", "What time do you open?", "Yes please", "Can I bring a friend?")
STOP = "STOP"
CONTACT_FIELDS = frozenset(
    field.name
    for field in Contact._meta.get_fields()
    if field.concrete and field.name not in {"id", "account", "tags", "full_name",
                                             "full_name_folded", "created_at", "updated_at"}
)  # fmt: skip
BATCH = 2000


@dataclass(frozen=True)
class Outbound:
    number: str
    status: str  # delivered | failed | sent
    error: str  # "" unless failed
    cost_local: Decimal
    segments: int
    text: str


@dataclass(frozen=True)
class Inbound:
    number: str
    text: str
    opted_out: bool  # a STOP word


@dataclass(frozen=True)
class Outcomes:
    outbound: list[Outbound]
    inbound: list[Inbound]
    currency: str


# --- Opening and closing ----------------------------------------------------------------


@transaction.atomic
def open_stage(
    options: Mapping[str, Any],
    contacts: Iterable[tuple[Mapping[str, Any], Iterable[str]]],
    currency: str = "GBP",
) -> Credentials:
    """A new rehearsal account and application, loaded with `contacts`: (fields, tag names)
    per contact, fields named as the sandbox's Contact's (others are ignored)."""
    token = secrets.token_hex(8)
    account = Account.objects.create(
        name=f"rehearsal-{token}", rehearsal=True, currency_code=currency
    )
    secret = secrets.token_urlsafe(32)
    application = Application.objects.create(
        account=account,
        name="rehearsal",
        client_key=f"tsk_rh_{token}",
        client_secret_sha256=_hash_secret(secret),
        rate_limit_calls=RATE_LIMIT[0],
        rate_limit_seconds=RATE_LIMIT[1],
        rehearsal={**OPTION_DEFAULTS, **options},
    )
    _load(account, contacts)
    return Credentials(application, secret)


def _load(account: Account, contacts: Iterable[tuple[Mapping[str, Any], Iterable[str]]]) -> None:
    """Every contact and its tags in bulk, whatever the audience's size: rows straight to
    the database (COPY on PostgreSQL), without a model instance each, which would cost
    Django ~0.4 ms a contact (100,000: 40 s instead of a few)."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    columns = [f for f in Contact._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in columns}
    defaults.update(account_id=account.pk, created_at=now, updated_at=now)
    rows, tag_names = [], {}
    for fields, names in contacts:
        values = {k: v for k, v in fields.items() if k in CONTACT_FIELDS and v is not None}
        full_name = " ".join(p for p in (values.get("first_name"), values.get("last_name")) if p)
        row = {**defaults, **values, "full_name": full_name,
               "full_name_folded": full_name.casefold()}  # fmt: skip
        rows.append(tuple(row[f.attname] for f in columns))
        spelled: dict[str, str] = {}  # tags match in any case; the first spelling is kept
        for name in names:
            spelled.setdefault(name.casefold(), name)
        tag_names[values["mobile_number"]] = spelled
    _insert(Contact._meta.db_table, [f.column for f in columns], rows)
    tags: dict[str, Tag] = {}
    for names in tag_names.values():
        for folded, name in names.items():
            tags.setdefault(folded, Tag(account=account, name=name, name_folded=folded))
    Tag.objects.bulk_create(tags.values(), batch_size=BATCH)
    ids = dict(account.contacts.values_list("mobile_number", "pk"))
    links = Contact.tags.through._meta
    pairs = [(ids[n], tags[folded].pk) for n, names in tag_names.items() for folded in names]
    _insert(links.db_table, [links.get_field(f).column for f in ("contact", "tag")], pairs)


def _insert(table: str, columns: list[str], rows: list[tuple]) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"  # noqa: S608 (our names)
        for offset in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[offset : offset + BATCH])


def close_stage(client_key: str) -> bool:
    """Delete the rehearsal account of `client_key` and every row it owns; False if there
    is none (closed already). Never touches an account that is not a rehearsal's."""
    account = Account.objects.filter(rehearsal=True, applications__client_key=client_key).first()
    if account is None:
        return False
    purge(account)
    return True


@transaction.atomic
def purge(account: Account) -> None:
    """Bottom-up DELETEs by account: Django's cascade would load every SMS and contact
    into memory first (signals), which a 100,000-contact stage cannot afford."""
    if not account.rehearsal:
        raise ValueError("only a rehearsal's account is purged")
    sms = SMS.objects.filter(account=account).values("pk")
    applications = Application.objects.filter(account=account).values("pk")
    for rows in (
        Link.objects.filter(sms__in=sms),
        WebhookDelivery.objects.filter(sms__in=sms),
        WebhookSubscription.objects.filter(application__in=applications),
        ApiCall.objects.filter(application__in=applications),
        Contact.tags.through.objects.filter(tag__account=account),
        SMS.objects.filter(account=account),
        Campaign.objects.filter(account=account),
        Contact.objects.filter(account=account),
        Tag.objects.filter(account=account),
        Application.objects.filter(account=account),
        Account.objects.filter(pk=account.pk),
    ):
        _raw_delete(rows)


def _raw_delete(rows) -> None:
    # The rows' dependants are deleted just before, so no cascade is needed: one DELETE.
    rows._raw_delete(connection.alias)


# --- The instant network ------------------------------------------------------------------


def play(application: Application, messages: list[SMS]) -> None:
    """Settle a rehearsal application's new SMS at once (no-op for other applications):
    delivered or failed by the suffix rules and the stage's failure rate, drawn per
    number from the stage's seed. A few UPDATEs, so even a send by tag to 100,000
    contacts answers within a web server's request timeout; the recipients' answers
    come after, from `answer`."""
    options = application.rehearsal
    if options is None or not messages:
        return
    now = timezone.now()
    by_outcome: dict[tuple[int, int], list[int]] = {}
    for sms in messages:
        rng = random.Random(f"{options['seed']}:{sms.to_number}")  # noqa: S311 (a simulation)
        by_outcome.setdefault(_outcome(sms.to_number, rng, options), []).append(sms.pk)
    for (status, error), pks in by_outcome.items():
        delivered = now if status == Status.DELIVERED else None
        SMS.objects.filter(pk__in=pks).update(
            status=status, error_code=error, sent_date=now, delivered_date=delivered,
            status_changed_at=now,
        )  # fmt: skip


@transaction.atomic  # one commit for every answer, not one each
def answer(client_key: str) -> int:
    """Recipients of the stage's delivered SMS answer: a STOP at `opt_out_rate`, else a
    reply at `reply_rate`, drawn per number from the seed. Each is an inbound SMS made by
    the inbound code every texted SMS goes through (so a STOP sets AllowSMS false).
    Returns how many answered."""
    application = Application.objects.select_related("account").get(
        client_key=client_key, account__rehearsal=True
    )
    options, account = application.rehearsal, application.account
    delivered = SMS.objects.filter(
        account=account, direction=Direction.OUTBOUND, status=Status.DELIVERED
    )
    answered = 0
    for number in delivered.order_by("pk").values_list("to_number", flat=True):
        rng = random.Random(f"{options['seed']}:{number}:answer")  # noqa: S311 (a simulation)
        text = _answer(rng, options)
        if text:
            # To the account's own number: the sender may be an alphanumeric id.
            messaging.receive_inbound(account, number, "", text)
            answered += 1
    return answered


def _outcome(number: str, rng: random.Random, options: Mapping) -> tuple[int, int]:
    suffix = number[-4:]
    if suffix in messaging.OUTCOME_BY_SUFFIX:
        rule = messaging.OUTCOME_BY_SUFFIX[suffix]
        return rule if rule else (Status.SENT, ErrorCode.NONE)  # 0001: never a report
    if rng.random() < options["failure_rate"]:
        return Status.FAILED, ErrorCode.NETWORK_FAILURE
    return Status.DELIVERED, ErrorCode.NONE


def _answer(rng: random.Random, options: Mapping) -> str:
    draw = rng.random()
    if draw < options["opt_out_rate"]:
        return STOP
    if draw < options["opt_out_rate"] + options["reply_rate"]:
        return rng.choice(REPLIES)
    return ""


# --- What happened ----------------------------------------------------------------------------


def outcomes(client_key: str) -> Outcomes:
    """Every outbound SMS of the stage with its outcome and cost, and every inbound one."""
    application = Application.objects.select_related("account").get(
        client_key=client_key, account__rehearsal=True
    )
    account = application.account
    sms = SMS.objects.filter(account=account).order_by("pk")
    outbound = [
        Outbound(number, Status(status).label, ErrorCode(error).label if error else "",
                 cost, segments, text)
        for number, status, error, cost, segments, text in sms.filter(
            direction=Direction.OUTBOUND
        ).values_list("to_number", "status", "error_code", "cost_local", "segments", "message")
    ]  # fmt: skip
    inbound = [
        Inbound(number, text, text == STOP)  # a stage's texts in are play()'s own
        for number, text in sms.filter(direction=Direction.INBOUND).values_list(
            "from_number", "message"
        )
    ]
    return Outcomes(outbound, inbound, account.currency_code)
