"""Settings → Audit log: admins only, filters, newest first a page at a time, the CSV of
the filtered entries (itself recorded); nothing on it or on the admin site changes an
entry, and the retention task is the one thing that deletes them."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit import browse, retention
from audit.log import record
from audit.models import Action, AuditEntry, ImmutableEntry
from audit.tasks import expire


@pytest.fixture
def ada(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def log(admin_user, agent_ann) -> dict[str, AuditEntry]:
    """A few entries at known times (the sign-ins of the clients come later, now)."""
    AuditEntry.objects.all().expire()
    now = timezone.now()
    entries = {
        "old_export": AuditEntry.objects.create(
            at=now - timedelta(days=10), actor=agent_ann, actor_name="ann",
            action=Action.EXPORT, target="contacts", ip="198.51.100.1",
        ),
        "role": AuditEntry.objects.create(
            at=now - timedelta(days=2), actor=admin_user, actor_name="ada",
            action=Action.ROLE, target="ann", detail={"change": "role", "role": "admin"},
        ),
        "delete": AuditEntry.objects.create(
            at=now - timedelta(days=1), actor=agent_ann, actor_name="ann",
            action=Action.DELETE, target="tag <b>VIP</b>",
        ),
    }  # fmt: skip
    return entries


def shown(response) -> list[int]:
    """The ids of the entries on the page, in order."""
    html = response.content.decode()
    return [int(part.split('"', 1)[0]) for part in html.split('data-entry="')[1:]]


def test_agents_and_visitors_may_not_see_it(agent_ann):
    agent = Client()
    agent.force_login(agent_ann)

    for url in (reverse("audit-log"), reverse("audit-log-csv")):
        assert agent.get(url).status_code == 403
        assert Client().get(url)["Location"].startswith(reverse("login"))


def test_the_settings_page_links_it(ada):
    assert reverse("audit-log") in ada.get(reverse("settings")).content.decode()


def test_newest_first_with_who_what_on_what_and_from_where_escaped(ada, log):
    response = ada.get(reverse("audit-log"))

    html = response.content.decode()
    ids = shown(response)
    assert ids[-3:] == [log["delete"].pk, log["role"].pk, log["old_export"].pk]
    assert "tag &lt;b&gt;VIP&lt;/b&gt;" in html and "<b>VIP</b>" not in html
    assert "198.51.100.1" in html and "Role or access changed" in html
    assert "role: admin" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "export"}, ["old_export"]),
        ({"target": "vip"}, ["delete"]),
        ({"action": "role", "target": "ann"}, ["role"]),
    ],
)
def test_filters(ada, log, query, expected):
    assert shown(ada.get(reverse("audit-log"), query)) == [log[name].pk for name in expected]


def test_filter_by_person_and_dates(ada, log, agent_ann):
    today = timezone.localdate()
    by_ann = ada.get(reverse("audit-log"), {"person": agent_ann.pk})
    last_three_days = ada.get(
        reverse("audit-log"),
        {"since": (today - timedelta(days=3)).isoformat(), "until": today.isoformat(),
         "person": agent_ann.pk},
    )  # fmt: skip

    assert shown(by_ann) == [log["delete"].pk, log["old_export"].pk]
    assert shown(last_three_days) == [log["delete"].pk]


def test_an_invalid_filter_is_a_field_error_and_shows_nothing(ada, log):
    response = ada.get(reverse("audit-log"), {"action": "no-such-action"})
    backwards = ada.get(reverse("audit-log"), {"since": "2026-02-01", "until": "2026-01-01"})

    assert shown(response) == [] and "Select a valid choice" in response.content.decode()
    assert shown(backwards) == []
    assert "The end date is before the start date" in backwards.content.decode()


def test_pages_go_older_and_back_newer_by_keyset(ada, log, admin_user, settings):
    for number in range(browse.PER_PAGE + 5):
        record(Action.EXPORT, actor=admin_user, target=f"export {number}")
    query = {"action": "export"}

    first = ada.get(reverse("audit-log"), query)
    older_link = first.content.decode().split('rel="next"')[0].rsplit('href="', 1)[1]
    older_link = older_link.split('"')[0].replace("&amp;", "&")
    second = ada.get(older_link)
    newer_link = second.content.decode().split('rel="prev"')[0].rsplit('href="', 1)[1]
    back = ada.get(newer_link.split('"')[0].replace("&amp;", "&"))

    exports = list(
        AuditEntry.objects.filter(action="export")
        .order_by("-at", "-id")
        .values_list("id", flat=True)
    )
    assert shown(first) == exports[: browse.PER_PAGE]
    assert shown(second) == exports[browse.PER_PAGE :]  # 5 newest-made + the old one
    assert shown(back) == shown(first)
    assert 'rel="next"' not in second.content.decode()


def test_a_page_costs_the_same_few_queries_however_deep(ada, admin_user):
    for number in range(3 * browse.PER_PAGE):
        record(Action.EXPORT, actor=admin_user, target=f"export {number}")
    last = AuditEntry.objects.order_by("at", "id")[browse.PER_PAGE]

    with CaptureQueriesContext(connection) as first:
        ada.get(reverse("audit-log"))
    with CaptureQueriesContext(connection) as deep:
        ada.get(reverse("audit-log"), {"before": browse.cursor_of(last)})

    assert len(deep) == len(first) <= 8
    assert not any("OFFSET" in query["sql"].upper() for query in deep)


def test_a_page_link_we_did_not_make_is_a_404(ada):
    for cursor in ("abc", "1-", "99999999999999999999-1", "1-99999999999999999999"):
        assert ada.get(reverse("audit-log"), {"before": cursor}).status_code == 404


def test_the_csv_holds_the_filtered_entries_and_its_download_is_recorded(ada, log, admin_user):
    AuditEntry.objects.create(
        actor_name="ann", action=Action.DELETE, target='=HYPERLINK("http://x")'
    )
    response = ada.get(reverse("audit-log-csv"), {"action": "delete"})

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0] == browse.CSV_HEADERS
    assert [row[3] for row in rows[1:]] == ['\'=HYPERLINK("http://x")', "tag <b>VIP</b>"]
    download = AuditEntry.objects.get(action=Action.EXPORT, target="audit log")
    assert download.actor == admin_user and download.detail == {"filters": {"action": "delete"}}


def test_the_csv_reads_a_long_log_in_chunks(ada, admin_user, monkeypatch):
    monkeypatch.setattr(browse, "CSV_CHUNK", 7)
    for number in range(30):
        record(Action.EXPORT, actor=admin_user, target=f"export {number}")

    text = b"".join(ada.get(reverse("audit-log-csv")).streaming_content).decode("utf-8-sig")

    targets = [row[3] for row in csv.reader(io.StringIO(text))][1:]
    assert targets[:31] == ["audit log", *(f"export {n}" for n in reversed(range(30)))]


def test_an_invalid_filter_downloads_nothing(ada, log):
    response = ada.get(reverse("audit-log-csv"), {"until": "not a date"})

    assert response.status_code == 400
    assert not AuditEntry.objects.filter(target="audit log").exists()


# --- Read-only ----------------------------------------------------------------------------


def test_an_entry_cannot_be_changed_or_deleted_from_the_app(log):
    entry = log["role"]
    entry.target = "someone else"

    with pytest.raises(ImmutableEntry):
        entry.save()
    with pytest.raises(ImmutableEntry):
        entry.delete()
    with pytest.raises(ImmutableEntry):
        AuditEntry.objects.filter(pk=entry.pk).update(target="someone else")
    with pytest.raises(ImmutableEntry):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.target == "ann"


def test_the_admin_site_shows_entries_read_only_even_to_superusers(ada, admin_user, log):
    request = RequestFactory().get("/")
    request.user = admin_user
    model_admin = site._registry[AuditEntry]

    assert admin_user.is_superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, log["role"])
    assert not model_admin.has_delete_permission(request, log["role"])
    page = ada.get(reverse("admin:audit_auditentry_change", args=[log["role"].pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert (
        ada.post(
            reverse("admin:audit_auditentry_delete", args=[log["role"].pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditEntry.objects.filter(pk=log["role"].pk).exists()


def test_a_deleted_user_is_still_named(log, agent_ann):
    agent_ann.delete()

    entry = AuditEntry.objects.get(pk=log["delete"].pk)
    assert entry.actor is None and entry.actor_name == "ann"


# --- Retention ----------------------------------------------------------------------------


def test_the_retention_task_deletes_only_entries_older_than_the_period(settings, admin_user):
    settings.AUDIT_RETENTION_DAYS = 30
    now = timezone.now()
    kept = AuditEntry.objects.create(at=now - timedelta(days=29), action=Action.EXPORT)
    for days in (31, 40, 400):
        AuditEntry.objects.create(at=now - timedelta(days=days), action=Action.EXPORT)

    assert expire() == 3
    assert list(AuditEntry.objects.filter(action=Action.EXPORT)) == [kept]
    assert expire() == 0


def test_retention_deletes_in_batches(settings, db):
    settings.AUDIT_RETENTION_DAYS = 1
    old = timezone.now() - timedelta(days=5)
    for _ in range(7):
        AuditEntry.objects.create(at=old, action=Action.EXPORT)

    with CaptureQueriesContext(connection) as queries:
        assert retention.expire(batch=3) == 7
    deletes = [q for q in queries if q["sql"].upper().startswith("DELETE")]
    assert len(deletes) == 3  # 3 + 3 + 1


def test_the_retention_task_is_scheduled_and_the_period_defaults_to_a_year():
    from django.conf import settings as project

    assert project.AUDIT_RETENTION_DAYS == 365
    assert any(e["task"] == "audit.expire" for e in project.CELERY_BEAT_SCHEDULE.values())
