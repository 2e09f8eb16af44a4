"""Two-factor sign-in for tests: enrol a user directly, compute the code their app would
show (django_otp.oath.TOTP over the device's key), sign in through both steps."""

import re
import time
from base64 import b32decode

from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    """A confirmed authenticator and ten recovery codes, as enrolment leaves them."""
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(10)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
    return device, codes


def code_for_key(key: bytes, steps_ahead: int = 0) -> str:
    """What an authenticator app shows now (or `steps_ahead` 30-second steps later: a code
    is accepted once, and one step of clock difference is allowed)."""
    totp = TOTP(key)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    device.refresh_from_db()
    return code_for_key(device.bin_key, steps_ahead + max(0, device.last_t + 1 - _now_t()))


def _now_t() -> int:
    return int(time.time()) // 30


def secret_on_page(html: str) -> bytes:
    """The key shown for typing into an app (base32 in groups of four), as bytes."""
    found = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', html)
    assert found, "no secret on the page"
    return b32decode(found.group(1).replace(" ", ""))


def sign_in_with_password(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def verified_client(user, password: str, device: TOTPDevice) -> Client:
    """A client signed in through both steps."""
    client = Client()
    assert sign_in_with_password(client, user.get_username(), password).status_code == 302
    response = client.post(reverse("two-factor-verify"), {"code": code_for(device)})
    assert response.status_code == 302, response.content.decode()[:500]
    return client
