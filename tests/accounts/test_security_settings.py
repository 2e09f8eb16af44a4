"""Settings -> Security (admins): the team policy's switches, saved and audited; requiring
two-factor sign-in needs the admin to have it first."""

import re

from django.test import Client
from django.urls import reverse

from accounts.models import TeamPolicy
from audit.models import Action, AuditEntry
from tests.support.two_factor import enrol, verified_client

ALL_ON = {"require_two_factor": "on", "agents_may_export": "on", "agents_may_bulk_tag": "on"}


def test_the_settings_index_links_the_security_page(admin_client):
    html = admin_client.get(reverse("settings")).content.decode()

    assert f'href="{reverse("security-settings")}"' in html


def checked(html: str, name: str) -> bool:
    found = re.search(rf'<input type="checkbox" name="{name}"[^>]*>', html)
    assert found, name
    return " checked" in found.group(0)


def test_the_page_shows_the_current_switches(admin_client):
    TeamPolicy.objects.create(pk=1, agents_may_export=False)

    html = admin_client.get(reverse("security-settings")).content.decode()

    assert not checked(html, "require_two_factor")
    assert not checked(html, "agents_may_export")
    assert checked(html, "agents_may_bulk_tag")
    assert "people already signed in within 5 minutes" in html


def test_an_admin_turns_off_the_agents_permissions(admin_client):
    response = admin_client.post(
        reverse("security-settings"), {"agents_may_bulk_tag": "on"}, REMOTE_ADDR="10.9.8.7"
    )

    assert response.status_code == 302
    policy = TeamPolicy.current()
    assert (policy.agents_may_export, policy.agents_may_bulk_tag) == (False, True)
    entry = AuditEntry.objects.exclude(action=Action.SIGN_IN).get()
    assert (entry.action, entry.actor_name, entry.target, entry.ip) == (
        Action.PERMISSION, "ada", "team policy", "10.9.8.7",
    )  # fmt: skip
    assert entry.detail == {"changed": {"agents_may_export": [True, False]}}


def test_saving_without_a_change_records_nothing(admin_client):
    admin_client.post(
        reverse("security-settings"), {"agents_may_export": "on", "agents_may_bulk_tag": "on"}
    )

    assert not AuditEntry.objects.exclude(action=Action.SIGN_IN).exists()


def test_requiring_two_factor_needs_the_admin_to_have_it(admin_client):
    response = admin_client.post(reverse("security-settings"), ALL_ON)

    assert response.status_code == 200
    assert "Set up two-factor sign-in for yourself first" in response.content.decode()
    assert not TeamPolicy.current().require_two_factor
    assert not AuditEntry.objects.exclude(action=Action.SIGN_IN).exists()


def test_an_admin_with_it_requires_it_for_everyone(admin_user, agent_ann):
    device, _codes = enrol(admin_user)
    admin = verified_client(admin_user, "ada-password-1", device)

    admin.post(reverse("security-settings"), ALL_ON)

    assert TeamPolicy.current().require_two_factor
    entry = AuditEntry.objects.get(action=Action.SETTINGS)
    assert entry.detail == {"changed": {"require_two_factor": [False, True]}}
    assert admin.get(reverse("inbox")).status_code == 200  # the admin carries on
    ann = Client()
    ann.post(reverse("login"), {"username": "ann", "password": "ann-password-1"})
    assert ann.get(reverse("inbox")).url.startswith(reverse("two-factor-setup"))


def test_agents_cannot_change_the_policy(client, agent_ann):
    client.force_login(agent_ann)

    response = client.post(reverse("security-settings"), ALL_ON)

    assert response.status_code == 403
    assert not TeamPolicy.objects.exists()
