"""Sessions expire after a period without activity; passwords follow Django's
validators; a user changes their own password."""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import get_default_password_validators
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.middleware import RENEWED

User = get_user_model()


def sign_in(username: str = "ann", password: str = "ann-password-1") -> Client:  # noqa: S107
    client = Client()
    assert (
        client.post(reverse("login"), {"username": username, "password": password}).status_code
        == 302
    )
    return client


def test_session_lifetime_defaults_to_twelve_hours_of_inactivity():
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert settings.SESSION_REFRESH_SECONDS == 300
    assert not getattr(settings, "SESSION_SAVE_EVERY_REQUEST", False)
    assert "accounts.middleware.SlidingSessionMiddleware" in settings.MIDDLEWARE


def test_the_session_cookie_carries_the_lifetime(agent_ann):
    client = sign_in()

    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 12 * 3600


def test_activity_extends_the_session_at_most_every_refresh_interval(agent_ann):
    client = sign_in()
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    first_expiry = Session.objects.get(pk=key).expire_date

    client.get(reverse("inbox"))  # within the interval: no write
    assert Session.objects.get(pk=key).expire_date == first_expiry

    session = client.session
    session[RENEWED] = int(time.time()) - settings.SESSION_REFRESH_SECONDS - 1
    session.save()
    saved = Session.objects.get(pk=key).expire_date
    time.sleep(0.01)
    response = client.get(reverse("inbox"))

    assert Session.objects.get(pk=key).expire_date > saved
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 12 * 3600


def test_an_expired_session_asks_to_sign_in_again(agent_ann):
    client = sign_in()
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(pk=key).update(expire_date="2000-01-01T00:00:00Z")

    response = client.get(reverse("inbox"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_signing_out_ends_the_session(agent_ann):
    client = sign_in()
    key = client.cookies[settings.SESSION_COOKIE_NAME].value

    client.post(reverse("logout"))

    assert not Session.objects.filter(pk=key).exists()
    assert client.get(reverse("inbox")).status_code == 302


def test_djangos_four_password_validators_with_ten_characters():
    names = [v.__class__.__name__ for v in get_default_password_validators()]

    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]
    assert get_default_password_validators()[1].min_length == 10


def test_a_user_changes_their_password_and_other_sessions_end(agent_ann):
    other_device = sign_in()
    client = sign_in()
    assert 'href="/profile/password/"' in client.get(reverse("profile")).content.decode()

    response = client.post(
        reverse("password-change"),
        {
            "old_password": "ann-password-1",
            "new_password1": "a-longer-secret-42",
            "new_password2": "a-longer-secret-42",
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("profile")
    assert "Your password is changed" in response.content.decode()
    assert client.get(reverse("inbox")).status_code == 200  # this session stays
    assert other_device.get(reverse("inbox")).status_code == 302  # the others end
    sign_in("ann", "a-longer-secret-42")


def test_the_password_change_checks_the_old_password_and_the_validators(agent_ann):
    client = sign_in()

    wrong_old = client.post(
        reverse("password-change"),
        {
            "old_password": "nope",
            "new_password1": "a-longer-secret-42",
            "new_password2": "a-longer-secret-42",
        },
    )
    weak = client.post(
        reverse("password-change"),
        {
            "old_password": "ann-password-1",
            "new_password1": "password1",
            "new_password2": "password1",
        },
    )

    assert "Your old password was entered incorrectly" in wrong_old.content.decode()
    assert "too common" in weak.content.decode()
    assert "at least 10 characters" in weak.content.decode()
    agent_ann.refresh_from_db()
    assert agent_ann.check_password("ann-password-1")


def test_the_password_change_page_needs_a_signed_in_user(db):
    response = Client().get(reverse("password-change"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_smtp_password_is_blanked_in_logs(settings):
    from txtcrm.logs import redact

    settings.EMAIL_HOST_PASSWORD = "smtp-secret-123"

    assert redact("535 auth failed for smtp-secret-123") == "535 auth failed for [redacted]"
