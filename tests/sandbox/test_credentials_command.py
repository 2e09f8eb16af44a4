"""`manage.py sandbox_credentials`: create, show and rotate application credentials."""

import pytest
from django.core.management import CommandError, call_command

from sandbox import services
from sandbox.models import Application


def run(capsys, *args) -> tuple[dict[str, str], str]:
    call_command("sandbox_credentials", *args)
    out, err = capsys.readouterr()
    pairs = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return pairs, err


@pytest.mark.django_db
def test_creates_the_default_application_and_prints_working_credentials(capsys):
    pairs, _ = run(capsys)

    assert set(pairs) == {"TXTSYNC_CLIENT_KEY", "TXTSYNC_CLIENT_SECRET"}
    application, ok = services.check_credentials(
        pairs["TXTSYNC_CLIENT_KEY"], pairs["TXTSYNC_CLIENT_SECRET"]
    )
    assert ok
    assert (application.name, application.account.name) == ("default", "default")
    assert pairs["TXTSYNC_CLIENT_SECRET"] not in application.client_secret_sha256


@pytest.mark.django_db
def test_an_existing_application_shows_its_key_but_no_new_secret(capsys):
    first, _ = run(capsys)
    again, err = run(capsys)

    assert again == {"TXTSYNC_CLIENT_KEY": first["TXTSYNC_CLIENT_KEY"]}
    assert "--rotate" in err
    assert services.check_credentials(first["TXTSYNC_CLIENT_KEY"], first["TXTSYNC_CLIENT_SECRET"])[
        1
    ]


@pytest.mark.django_db
def test_rotate_issues_a_new_secret_and_retires_the_old_one(capsys):
    first, _ = run(capsys)
    rotated, _ = run(capsys, "--rotate")

    key = first["TXTSYNC_CLIENT_KEY"]
    assert rotated["TXTSYNC_CLIENT_KEY"] == key
    assert not services.check_credentials(key, first["TXTSYNC_CLIENT_SECRET"])[1]
    assert services.check_credentials(key, rotated["TXTSYNC_CLIENT_SECRET"])[1]


@pytest.mark.django_db
def test_named_applications_have_their_own_key_and_optional_limit(capsys):
    default, _ = run(capsys)
    other, _ = run(capsys, "--name", "zapier", "--rate-limit", "20/5")

    assert other["TXTSYNC_CLIENT_KEY"] != default["TXTSYNC_CLIENT_KEY"]
    zapier = Application.objects.get(name="zapier")
    assert services.rate_limit_of(zapier) == (20, 5)
    assert zapier.account == Application.objects.get(name="default").account


@pytest.mark.django_db
def test_a_malformed_rate_limit_is_refused(capsys):
    with pytest.raises(CommandError, match="CALLS/SECONDS"):
        call_command("sandbox_credentials", "--rate-limit", "fast")
