"""The REST API's schema tells the truth (issue 15, item 7): Schemathesis, a schema-driven
fuzzer, runs every operation of /api/schema/ in-process against the WSGI app, as an agent
and as an admin, 30 generated cases per operation (valid and invalid input: its examples,
coverage and fuzzing phases), derandomized so every run sends the same requests. Each
answer must be no server error, a documented status code and content type, and a body
that matches the schema (docs/api.md, "Errors" and "The schema, checked by a fuzzer").

Every case with an id in its path is sent twice: with the generated id (mostly no such
object: a 404, or a 400 when out of range) and with the id of a real object of that kind,
so the operation's own logic answers too (a reply queued, a campaign launched, a tag
renamed...). Nothing leaves: the test database's transaction never commits, so the send
and push tasks queued on commit are never dispatched (as in tests/messaging/test_api.py).

Its cost: about 90 s of CPU per pass of `make test` (SQLite or PostgreSQL), so some 45 s
with its two processes (docs/api.md); an operation takes up to 20 s on a busy machine.
"""

import json
import re

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.config import SchemathesisConfig

from audiences.models import Segment
from campaigns.models import Campaign
from contacts import services as contacts
from messaging.models import Direction
from tests.support.inbox import converse, said_in, said_out

# In `make test` (and CI) like any test; `-m "not fuzz"` leaves it out of a quick local run.
pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(300)]  # 120 s is tight on a busy box
# Hypothesis's files (its cache of the code's constants) in this run's folder, removed
# at the end (tests/conftest.py), not in the working tree.
set_hypothesis_home_dir(str(django_settings.VAR_DIR / "hypothesis"))

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
SETTINGS = {
    "seed": 15,
    "generation": {"max-examples": 30, "mode": "all", "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},  # the pytest integration runs operations
    "checks": {"enabled": False, **{check: {"enabled": True} for check in CHECKS}},
}
# The fixtures (users, objects) are made once per operation, and its cases change them
# as a client would (a contact deleted, a campaign launched): meant, not a surprise.
FIXTURES_ONCE_PER_OPERATION = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
# A path's first segment -> the fixture's object of that kind.
KIND = re.compile(r"^/api/(\w+)/\{id\}/")


def generated_schema() -> dict:
    """The schema /api/schema/ serves (drf-spectacular's generator, as its view calls it).
    Built at collection, so that each operation is a test of its own (pytest-xdist
    spreads them); test_the_fuzzer_reads_the_served_schema checks it is the same."""
    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))


SCHEMA = schemathesis.openapi.from_dict(
    generated_schema(), config=SchemathesisConfig.from_dict(SETTINGS)
)
SCHEMA.app = get_wsgi_application()  # in-process: the WSGI app, in the test's transaction


@pytest.fixture(autouse=True)
def connection_kept_open():
    """The WSGI handler closes the database connection around each request (it is in a
    transaction: the test's); Django's test client keeps it open, and so does this."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def objects(db, admin_user, agent_ann) -> dict[str, int]:
    """One of each kind, with an inbound text last (send_state null) and an outbound one."""
    contacts.create_contact({"first_name": "Zed", "mobile_number": "+447911000001"},
                            tag_names=["VIP"])  # fmt: skip
    ann = converse("+447911123456", said_out("Hi there", 9), said_in("Is it ready?", 3),
                   first="Ann", unread=True, assignee=agent_ann)  # fmt: skip
    converse("+447912345678", said_in("Hello", 8), said_out("Hi", 5), first="Ben")
    draft = Campaign.objects.create(
        name="Spring", sender="Acme", template="Hi {FirstName}",
        audience={"any_tags": ["VIP"]}, created_by=admin_user,
    )  # fmt: skip
    segment = Segment.objects.create(  # issue 16: an admin's, so agents get 403 on changes
        name="VIPs", conditions={"conditions": [{"field": "tags", "op": "any", "value": [
            ann.contact.tags.model.objects.get(name="VIP").pk]}]}, created_by=admin_user,
    )  # fmt: skip
    return {
        "segments": segment.pk,
        "contacts": ann.contact_id,
        "tags": ann.contact.tags.model.objects.get(name="VIP").pk,
        "conversations": ann.pk,
        "messages": ann.messages.get(direction=Direction.INBOUND).pk,
        "campaigns": draft.pk,
    }


def token(user) -> dict[str, str]:
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def call_and_validate(case, headers: dict[str, str], objects: dict[str, int]) -> None:
    """The case as generated, then, for a path with an id, with a real object's id."""
    case.call_and_validate(headers=headers)
    kind = KIND.match(case.path)
    if kind:
        case.path_parameters = {**case.path_parameters, "id": objects[kind.group(1)]}
        case.call_and_validate(headers=headers)


@SCHEMA.parametrize()
@FIXTURES_ONCE_PER_OPERATION
def test_the_schema_tells_an_agent_the_truth(case, agent_ann, objects):
    call_and_validate(case, token(agent_ann), objects)


@SCHEMA.parametrize()
@FIXTURES_ONCE_PER_OPERATION
def test_the_schema_tells_an_admin_the_truth(case, admin_user, objects):
    call_and_validate(case, token(admin_user), objects)


def test_the_fuzzer_reads_the_served_schema(admin_user):
    served = APIClient(headers=token(admin_user)).get("/api/schema/", {"format": "json"})

    assert served.status_code == 200
    assert served.json() == generated_schema()
