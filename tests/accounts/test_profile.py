"""The profile page (/profile/): the signed-in user's API token, created and replaced
by POST (with CSRF), through the same service as `manage.py api_token`; and DRF's
`drf_create_token` command, which docs/api.md documents."""

from io import StringIO

from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services


def test_the_profile_needs_a_signed_in_user(client, db):
    response = client.get(reverse("profile"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert client.post(reverse("profile")).status_code == 302
    assert not Token.objects.exists()


def test_the_nav_links_to_the_profile(client, agent_ann):
    client.force_login(agent_ann)

    html = client.get(reverse("home")).content.decode()

    assert f'href="{reverse("profile")}"' in html


def test_create_then_regenerate_the_token(client, agent_ann):
    client.force_login(agent_ann)
    page = client.get(reverse("profile")).content.decode()
    assert "You have no API token yet." in page and "Create token" in page

    response = client.post(reverse("profile"), follow=True)

    token = Token.objects.get(user=agent_ann)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("profile")
    assert token.key in html and "API token created." in html and "Regenerate token" in html
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/contacts/").status_code == 200

    html = client.post(reverse("profile"), follow=True).content.decode()

    new = Token.objects.get(user=agent_ann)
    assert new.key != token.key and new.key in html and token.key not in html
    assert "the old one no longer works" in html
    assert api.get("/api/contacts/").status_code == 401  # the old token is dead


def test_each_user_sees_only_their_own_token(client, agent_ann, agent_bob):
    bobs = Token.objects.create(user=agent_bob)
    client.force_login(agent_ann)

    assert bobs.key not in client.get(reverse("profile")).content.decode()


def test_the_post_needs_the_csrf_token(agent_ann):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_ann)

    assert client.post(reverse("profile")).status_code == 403
    assert not Token.objects.exists()


def test_drf_create_token_prints_a_working_token_and_r_replaces_it(agent_ann):
    out = StringIO()
    call_command("drf_create_token", "ann", stdout=out)
    key = Token.objects.get(user=agent_ann).key
    assert key in out.getvalue()

    call_command("drf_create_token", "ann", "-r", stdout=StringIO())

    assert Token.objects.get(user=agent_ann).key != key


# --- One way to change a token: accounts.services, for the page and `api_token` -----------


def test_a_users_token_is_created_once_and_kept(agent_ann):
    token = services.api_token(agent_ann)

    assert services.api_token(agent_ann) == token
    assert list(Token.objects.filter(user=agent_ann)) == [token]


def test_rotating_replaces_the_token_and_says_whether_there_was_one(agent_ann):
    first, replaced_one = services.rotate_api_token(agent_ann)
    assert not replaced_one

    second, replaced_one = services.rotate_api_token(agent_ann)

    assert replaced_one and second.key != first.key
    assert list(Token.objects.filter(user=agent_ann)) == [second]


def test_the_page_and_the_command_rotate_through_the_one_service(client, agent_ann, monkeypatch):
    rotated = []
    rotate = services.rotate_api_token
    monkeypatch.setattr(
        services, "rotate_api_token", lambda user: rotated.append(user) or rotate(user)
    )
    client.force_login(agent_ann)

    client.post(reverse("profile"))
    call_command("api_token", "ann", "--rotate", stdout=StringIO())

    assert rotated == [agent_ann, agent_ann]
