"""The Users page: roles, deactivation, password reset links."""

import logging
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts import services
from tests.support.accounts import logged_link, shown_link

User = get_user_model()
ADMIN_PAGES = ["settings", "txtsync-settings", "users", "user-invite"]


def signed_in(username: str, password: str) -> Client:
    """A browser that signed in through the login page (a real session)."""
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, f"{username} could not sign in"
    return client


def test_the_users_page_lists_the_team_and_pending_invitations(admin_client, agent_ann):
    agent_ann.first_name, agent_ann.last_name = "Ann", "Lee"
    agent_ann.save()
    signed_in("ann", "ann-password-1")  # so ann has a last sign-in
    admin_client.post(
        reverse("user-invite"), {"email": "dee@example.com", "name": "Dee", "role": "admin"}
    )

    html = admin_client.get(reverse("users")).content.decode()

    ann_row = html.split(f'id="user-{agent_ann.pk}"')[1].split("</tr>")[0]
    assert "Ann Lee" in ann_row and "ann@example.com" in ann_row
    assert '<option value="agent" selected>' in ann_row
    assert "Active" in ann_row and "Never" not in ann_row
    ada_row = html.split("ada@example.com")[1].split("</tr>")[0]
    assert '<option value="admin" selected>' in ada_row
    assert "Deactivate" not in ada_row  # not yourself
    invitations = html.split('id="invitations"')[1]
    assert "dee@example.com" in invitations and "Admin" in invitations


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_agents_get_403_on_admin_pages_and_admins_get_in(client, agent_ann, admin_user, page):
    client.force_login(agent_ann)
    denied = client.get(reverse(page))
    client.force_login(admin_user)
    allowed = client.get(reverse(page))

    assert denied.status_code == 403
    assert "Not allowed" in denied.content.decode() or "administrator" in denied.content.decode()
    assert allowed.status_code == 200


def test_the_settings_page_links_every_admin_setting(admin_client):
    html = admin_client.get(reverse("settings")).content.decode()

    for name in ("users", "txtsync-settings", "custom-fields", "admin:index"):
        assert f'href="{reverse(name)}"' in html
    assert f'href="{reverse("canned-replies")}"' in html  # the team's canned replies
    assert reverse("admin:integrations_outgoingwebhook_changelist") in html


def test_making_an_agent_admin_and_back(admin_client, agent_ann):
    ann = Client()
    ann.force_login(agent_ann)
    assert ann.get(reverse("campaigns")).status_code == 403

    page = admin_client.post(
        reverse("user-role", args=[agent_ann.pk]), {"role": "admin"}, follow=True
    )

    assert "ann is now: Admin." in page.content.decode()
    assert ann.get(reverse("campaigns")).status_code == 200  # at once, same session
    assert ann.get(reverse("users")).status_code == 200
    assert ann.get(reverse("admin:index")).status_code == 200

    admin_client.post(reverse("user-role", args=[agent_ann.pk]), {"role": "agent"})

    agent_ann.refresh_from_db()
    assert not agent_ann.is_staff and not agent_ann.is_superuser
    assert ann.get(reverse("campaigns")).status_code == 403
    assert ann.get(reverse("inbox")).status_code == 200


def test_the_last_active_admin_cannot_be_demoted(admin_client, admin_user):
    page = admin_client.post(
        reverse("user-role", args=[admin_user.pk]), {"role": "agent"}, follow=True
    )

    assert "last active admin" in page.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_staff


def test_an_admin_may_step_down_when_another_admin_remains(admin_client, admin_user, agent_ann):
    services.change_role(admin_user, agent_ann, "admin")

    response = admin_client.post(reverse("user-role", args=[admin_user.pk]), {"role": "agent"})

    assert response.url == reverse("home")  # the Users page is no longer theirs
    admin_user.refresh_from_db()
    assert not admin_user.is_staff


def test_a_deactivated_admin_does_not_count_as_the_remaining_admin(admin_user, agent_ann):
    services.change_role(admin_user, agent_ann, "admin")
    services.deactivate(admin_user, agent_ann)

    with pytest.raises(services.AccountError, match="last active admin"):
        services.change_role(admin_user, admin_user, "agent")


def test_an_admin_cannot_deactivate_themselves(admin_client, admin_user):
    page = admin_client.post(reverse("user-deactivate", args=[admin_user.pk]), follow=True)

    assert "You cannot deactivate yourself." in page.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_a_deactivated_user_is_signed_out_cannot_sign_in_and_loses_the_api(
    admin_client, agent_ann
):
    ann = signed_in("ann", "ann-password-1")
    token = Token.objects.create(user=agent_ann)
    assert ann.get(reverse("inbox")).status_code == 200
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/contacts/").status_code == 200

    page = admin_client.post(reverse("user-deactivate", args=[agent_ann.pk]), follow=True)

    assert "ann is deactivated" in page.content.decode()
    assert "Deactivated" in page.content.decode()
    # Their session is gone: the next page asks them to sign in.
    response = ann.get(reverse("inbox"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not [
        s
        for s in Session.objects.all()
        if s.get_decoded().get("_auth_user_id") == str(agent_ann.pk)
    ]
    # Their token is deleted: the API refuses it.
    assert api.get("/api/contacts/").status_code == 401
    # The right password no longer signs them in (the same message as a wrong one).
    refused = Client().post(reverse("login"), {"username": "ann", "password": "ann-password-1"})
    assert refused.status_code == 200
    assert "didn't match" in refused.content.decode()


def test_drf_refuses_the_token_of_an_inactive_user(agent_ann):
    """Even a token that survived (made before deactivation, restored from a backup):
    DRF's TokenAuthentication refuses inactive users."""
    token = Token.objects.create(user=agent_ann)
    User.objects.filter(pk=agent_ann.pk).update(is_active=False)

    response = Client(HTTP_AUTHORIZATION=f"Token {token.key}").get("/api/contacts/")

    assert response.status_code == 401
    assert "inactive" in response.json()["detail"].lower()


def test_reactivating_lets_them_sign_in_again(admin_client, agent_ann):
    services.deactivate(User.objects.get(username="ada"), agent_ann)

    page = admin_client.post(reverse("user-reactivate", args=[agent_ann.pk]), follow=True)

    assert "ann can sign in again." in page.content.decode()
    signed_in("ann", "ann-password-1")


def test_a_reset_link_is_logged_and_shown_once_and_works_once(admin_client, agent_ann, caplog):
    caplog.set_level(logging.INFO, logger="accounts")
    ann = signed_in("ann", "ann-password-1")

    page = admin_client.post(reverse("user-reset-password", args=[agent_ann.pk]), follow=True)
    link = shown_link(page)

    assert logged_link(caplog) == link
    assert "No mail server is configured" in page.content.decode()
    assert "ann-password-1" not in caplog.text  # never a password
    # The old password keeps working until the new one is set.
    assert agent_ann.check_password("ann-password-1")

    browser = Client()
    form = browser.get(link, follow=True)
    assert "Set a new password" in form.content.decode()
    done = browser.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-secret-7", "new_password2": "a-brand-new-secret-7"},
        follow=True,
    )
    assert "Your new password is set" in done.content.decode()
    signed_in("ann", "a-brand-new-secret-7")
    # Sessions from before the reset are signed out (Django: the password changed).
    assert ann.get(reverse("inbox")).status_code == 302
    # The link worked once.
    again = Client().get(link, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_the_reset_link_enforces_the_password_validators(admin_client, agent_ann):
    link = shown_link(
        admin_client.post(reverse("user-reset-password", args=[agent_ann.pk]), follow=True)
    )
    browser = Client()
    form = browser.get(link, follow=True)

    response = browser.post(
        form.redirect_chain[-1][0], {"new_password1": "ann12", "new_password2": "ann12"}
    )

    assert "at least 10 characters" in response.content.decode()
    agent_ann.refresh_from_db()
    assert agent_ann.check_password("ann-password-1")


def test_with_a_mail_server_the_reset_link_is_emailed(admin_client, agent_ann, settings):
    settings.TXTCRM_SEND_EMAIL = True

    page = admin_client.post(reverse("user-reset-password", args=[agent_ann.pk]), follow=True)

    assert "We emailed the link to ann@example.com." in page.content.decode()
    assert 'id="shown-link-url"' not in page.content.decode()
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    assert re.search(r"/reset/\S+/\S+/", message.body)


def test_a_user_without_email_gets_the_link_through_the_admin(admin_client, agent_ann, settings):
    settings.TXTCRM_SEND_EMAIL = True
    User.objects.filter(pk=agent_ann.pk).update(email="")

    page = admin_client.post(reverse("user-reset-password", args=[agent_ann.pk]), follow=True)

    assert "This user has no email address." in page.content.decode()
    assert shown_link(page).startswith("/reset/")
    assert not mail.outbox


def test_no_reset_link_for_a_deactivated_user(admin_client, admin_user, agent_ann):
    services.deactivate(admin_user, agent_ann)

    page = admin_client.post(reverse("user-reset-password", args=[agent_ann.pk]), follow=True)

    assert "reactivate them first" in page.content.decode()
    assert 'id="shown-link-url"' not in page.content.decode()


def test_actions_need_a_post(admin_client, agent_ann):
    for name in ("user-deactivate", "user-reactivate", "user-role", "user-reset-password"):
        assert admin_client.get(reverse(name, args=[agent_ann.pk])).status_code == 405
