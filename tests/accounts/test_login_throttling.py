"""Login throttling (django-axes): AXES_FAILURE_LIMIT wrong passwords for one username
from one address lock that pair out for the cool-off time."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts import services

LIMIT = settings.AXES_FAILURE_LIMIT


def attempt(client: Client, username: str, password: str, url: str | None = None):
    return client.post(url or reverse("login"), {"username": username, "password": password})


def fail(client: Client, username: str, times: int = LIMIT, url: str | None = None):
    return [attempt(client, username, "wrong-password", url) for _ in range(times)]


def test_defaults_are_five_failures_and_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_failures_below_the_limit_only_say_the_password_is_wrong(agent_ann):
    client = Client()

    responses = fail(client, "ann", LIMIT - 1)

    assert all(r.status_code == 200 for r in responses)
    assert all("didn't match" in r.content.decode() for r in responses)
    assert attempt(client, "ann", "ann-password-1").status_code == 302  # still fine


def test_too_many_failures_lock_the_username_out_with_a_clear_message(agent_ann):
    client = Client()

    last = fail(client, "ann")[-1]
    right = attempt(client, "ann", "ann-password-1")

    assert last.status_code == 429
    for response in (last, right):
        html = response.content.decode()
        assert "Too many failed sign-in attempts for this username" in html
        assert "Wait 15 minutes" in html
        assert 'name="username"' in html  # still the sign-in page
    assert right.status_code == 429  # even the right password, while locked
    assert "_auth_user_id" not in client.session


def test_a_lockout_affects_neither_another_user_nor_another_address(agent_ann, agent_bob):
    fail(Client(REMOTE_ADDR="10.0.0.1"), "ann")

    bob = attempt(Client(REMOTE_ADDR="10.0.0.1"), "bob", "bob-password-1")
    ann_elsewhere = attempt(Client(REMOTE_ADDR="10.0.0.2"), "ann", "ann-password-1")

    assert bob.status_code == 302
    assert ann_elsewhere.status_code == 302


def test_a_successful_sign_in_clears_the_count(agent_ann):
    client = Client()
    fail(client, "ann", LIMIT - 1)
    assert attempt(client, "ann", "ann-password-1").status_code == 302
    client.post(reverse("logout"))

    responses = fail(client, "ann", LIMIT - 1)

    assert all(r.status_code == 200 for r in responses)


def test_the_admin_site_login_is_throttled_too(admin_user):
    client = Client()
    url = reverse("admin:login")

    last = fail(client, "ada", url=url)[-1]

    assert last.status_code == 429
    assert attempt(client, "ada", "ada-password-1", url).status_code == 429


def test_an_admin_sees_the_lockout_and_unlocks(admin_client, agent_ann):
    locked = Client()
    fail(locked, "ann")

    page = admin_client.get(reverse("users")).content.decode()
    row = page.split(f'id="user-{agent_ann.pk}"')[1].split("</tr>")[0]
    assert "Locked out" in row
    done = admin_client.post(reverse("user-unlock", args=[agent_ann.pk]), follow=True)

    assert "ann can try to sign in again." in done.content.decode()
    assert "Locked out" not in done.content.decode().split(f'id="user-{agent_ann.pk}"')[1]
    assert attempt(locked, "ann", "ann-password-1").status_code == 302


def test_unlocking_from_the_command_line(agent_ann):
    from django.core.management import call_command

    client = Client()
    fail(client, "ann")

    call_command("axes_reset_username", "ann")

    assert attempt(client, "ann", "ann-password-1").status_code == 302


@pytest.mark.parametrize("minutes", [1, 15])
def test_the_message_follows_the_cool_off_setting(agent_ann, settings, minutes):
    from datetime import timedelta

    settings.AXES_COOLOFF_TIME = timedelta(minutes=minutes)

    last = fail(Client(), "ann")[-1]

    word = "minute" if minutes == 1 else "minutes"
    assert f"Wait {minutes} {word} and try again" in last.content.decode()


def test_locked_out_usernames_forget_expired_lockouts(agent_ann, settings):
    from datetime import timedelta

    fail(Client(), "ann")
    assert services.locked_out_usernames() == {"ann"}

    settings.AXES_COOLOFF_TIME = timedelta(seconds=0)

    assert services.locked_out_usernames() == set()


def test_behind_a_proxy_the_forwarded_address_counts(agent_ann, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.9"}
    # The attacker makes up the first entry each time; the proxy appends the real one.
    for made_up in range(LIMIT):
        Client(**proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.{made_up}, 203.0.113.5").post(
            reverse("login"), {"username": "ann", "password": "wrong-password"}
        )

    attacker = Client(**proxy, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.5")
    colleague = Client(**proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")

    assert attempt(attacker, "ann", "ann-password-1").status_code == 429
    assert attempt(colleague, "ann", "ann-password-1").status_code == 302
