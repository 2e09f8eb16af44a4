"""Inviting someone: the one-time, expiring link, and what the invitee sees."""

import hashlib
import logging
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, InvitationStatus
from tests.support.accounts import logged_link, shown_link

User = get_user_model()
PASSWORD = "correct-horse-battery-9"


def invite(admin_client, email="dee@example.com", name="Dee Okafor", role="agent"):
    return admin_client.post(
        reverse("user-invite"), {"email": email, "name": name, "role": role}, follow=True
    )


def accept(link, username="dee", password=PASSWORD, name="Dee Okafor", client=None):
    client = client or Client()
    return client, client.post(
        link,
        {"name": name, "username": username, "password1": password, "password2": password},
        follow=True,
    )


def test_an_admin_invites_and_the_link_is_shown_once_and_logged(admin_client, caplog):
    caplog.set_level(logging.INFO, logger="accounts")

    page = invite(admin_client)

    html = page.content.decode()
    assert "Invited dee@example.com." in html
    assert "No mail server is configured" in html
    link = shown_link(page)
    assert link.startswith("/invite/")
    assert logged_link(caplog) == link  # the operator finds it in the log too
    # Shown once: the next visit of the page no longer has it.
    again = admin_client.get(reverse("users")).content.decode()
    assert link not in again
    assert "dee@example.com" in again  # still listed, as a pending invitation
    assert "Pending invitations" in again


def test_the_token_is_stored_only_as_a_hash(admin_client):
    link = shown_link(invite(admin_client))
    token = link.rstrip("/").rsplit("/", 1)[1]

    invitation = Invitation.objects.get()

    assert token not in str(Invitation.objects.values().get())
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_accepting_creates_the_account_with_the_role_and_signs_in(admin_client):
    link = shown_link(invite(admin_client, role="admin"))

    form = Client().get(link)
    assert form.status_code == 200
    assert "You are invited as <strong>Admin</strong>" in form.content.decode()
    client, response = accept(link)

    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Welcome, Dee" in response.content.decode()
    dee = User.objects.get(username="dee")
    assert (dee.email, dee.get_full_name()) == ("dee@example.com", "Dee Okafor")
    assert dee.is_staff and dee.is_superuser and dee.check_password(PASSWORD)
    assert client.get(reverse("users")).status_code == 200  # an admin: the Users page
    assert Invitation.objects.get().status == InvitationStatus.ACCEPTED
    assert Invitation.objects.get().user == dee


def test_an_agent_invitation_makes_an_agent(admin_client):
    link = shown_link(invite(admin_client, role="agent"))

    client, _ = accept(link)

    dee = User.objects.get(username="dee")
    assert not dee.is_staff and not dee.is_superuser
    assert client.get(reverse("inbox")).status_code == 200
    assert client.get(reverse("users")).status_code == 403


def test_a_link_works_only_once(admin_client):
    link = shown_link(invite(admin_client))
    accept(link)

    again = Client().get(link)
    _, second = accept(link, username="dee2")

    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert second.status_code == 410
    assert not User.objects.filter(username="dee2").exists()


def test_an_expired_link_says_so(admin_client, settings):
    link = shown_link(invite(admin_client))
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = Client().get(link)
    _, post = accept(link)

    assert response.status_code == 410
    assert "has expired" in response.content.decode()
    assert post.status_code == 410
    assert not User.objects.filter(username="dee").exists()
    # The Users page lists it as expired, to resend or revoke.
    assert "Expired" in admin_client.get(reverse("users")).content.decode()


def test_links_expire_after_the_configured_days(admin_client, settings):
    settings.INVITATION_VALID_DAYS = 2
    before = timezone.now()

    invite(admin_client)

    expires = Invitation.objects.get().expires_at
    assert before + timedelta(days=2) <= expires <= timezone.now() + timedelta(days=2)


def test_a_revoked_link_says_so(admin_client):
    link = shown_link(invite(admin_client))
    invitation = Invitation.objects.get()

    page = admin_client.post(reverse("invitation-revoke", args=[invitation.pk]), follow=True)
    response = Client().get(link)

    assert "Revoked the invitation for dee@example.com" in page.content.decode()
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    assert "No pending invitations." in page.content.decode()


def test_resending_replaces_the_link(admin_client):
    old = shown_link(invite(admin_client))
    invitation = Invitation.objects.get()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(days=1))  # even expired

    page = admin_client.post(reverse("invitation-resend", args=[invitation.pk]), follow=True)
    new = shown_link(page)

    assert new != old
    assert Client().get(old).status_code == 404  # unknown now: "not valid"
    assert "not valid" in Client().get(old).content.decode()
    assert Client().get(new).status_code == 200
    assert Invitation.objects.get().status == InvitationStatus.PENDING


def test_an_unknown_link_is_a_404(db):
    response = Client().get(reverse("accept-invitation", args=["nonsense"]))

    assert response.status_code == 404
    assert "not valid" in response.content.decode()


@pytest.mark.parametrize(
    ("password", "complaint"),
    [
        ("short-1", "at least 10 characters"),
        ("password123", "too common"),
        ("1234567890123", "entirely numeric"),
        ("dee@example.com1", "too similar"),
    ],
)
def test_the_password_must_pass_djangos_validators(admin_client, password, complaint):
    link = shown_link(invite(admin_client))

    _, response = accept(link, password=password)

    assert response.status_code == 200
    assert complaint in response.content.decode()
    assert not User.objects.filter(username="dee").exists()
    assert Invitation.objects.get().status == InvitationStatus.PENDING  # still usable


def test_passwords_must_match_and_the_username_be_free(admin_client, agent_ann):
    link = shown_link(invite(admin_client))
    client = Client()

    mismatch = client.post(
        link,
        {"username": "dee", "password1": PASSWORD, "password2": PASSWORD + "x"},
    )
    taken = client.post(link, {"username": "ANN", "password1": PASSWORD, "password2": PASSWORD})

    assert "didn\u2019t match" in mismatch.content.decode()  # Django's typographic quote
    assert "already exists" in taken.content.decode()
    assert Invitation.objects.get().status == InvitationStatus.PENDING


def test_no_second_invitation_for_the_same_email_or_an_existing_user(admin_client, agent_ann):
    invite(admin_client)

    twice = invite(admin_client, email="DEE@example.com")
    member = invite(admin_client, email="ann@example.com")

    assert "already invited" in twice.content.decode()
    assert "already has an account" in member.content.decode()
    assert Invitation.objects.count() == 1


def test_with_a_mail_server_the_invitation_is_emailed_not_shown(admin_client, settings):
    settings.TXTCRM_SEND_EMAIL = True

    page = invite(admin_client)

    html = page.content.decode()
    assert "We emailed the link to dee@example.com." in html
    assert 'id="shown-link-url"' not in html
    [message] = mail.outbox
    assert message.to == ["dee@example.com"]
    assert "Hello Dee Okafor," in message.body
    link = next(line for line in message.body.splitlines() if "/invite/" in line)
    _, response = accept(link.replace(settings.PUBLIC_BASE_URL, ""))
    assert response.redirect_chain[-1][0] == reverse("home")


def test_when_mail_fails_the_link_is_shown_with_the_reason(admin_client, settings):
    settings.TXTCRM_SEND_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2

    page = invite(admin_client)

    assert "could not be sent" in page.content.decode()
    assert shown_link(page).startswith("/invite/")


def test_invite_form_errors_say_what_to_fix(admin_client):
    response = admin_client.post(reverse("user-invite"), {"email": "not-an-email", "role": "boss"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid email address." in html
    assert "Select a valid choice." in html
    assert not Invitation.objects.exists()


def test_of_two_simultaneous_acceptances_one_wins(admin_client, monkeypatch):
    """The claim is a conditional UPDATE: a link someone else used between our check and
    our write is refused, and no second account is made."""
    from accounts import services

    link = shown_link(invite(admin_client))
    token = link.rstrip("/").rsplit("/", 1)[1]
    check = services.invitation_for

    def used_meanwhile(token):
        invitation = check(token)
        Invitation.objects.update(accepted_at=timezone.now())  # the other browser
        return invitation

    monkeypatch.setattr(services, "invitation_for", used_meanwhile)

    with pytest.raises(services.InvitationInvalid) as refused:
        services.accept_invitation(token, username="dee", password=PASSWORD, name="")

    assert refused.value.status == InvitationStatus.ACCEPTED
    assert not User.objects.filter(username="dee").exists()


def test_no_password_is_ever_logged(admin_client, caplog):
    caplog.set_level(logging.DEBUG)
    link = shown_link(invite(admin_client))

    accept(link)
    accept(link, username="dee2", password="another-secret-88")

    assert PASSWORD not in caplog.text
    assert "another-secret-88" not in caplog.text
