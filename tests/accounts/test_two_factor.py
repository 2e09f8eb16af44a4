"""Two-factor sign-in (docs/security.md): enrolment with a real TOTP code, the second
sign-in step, recovery codes, throttled wrong codes, turning it off, an admin's reset,
the team policy that requires it, and REST API tokens that are unaffected."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts import two_factor
from accounts.models import TeamPolicy
from audit.models import Action, AuditEntry
from tests.support.two_factor import (
    code_for,
    code_for_key,
    enrol,
    secret_on_page,
    sign_in_with_password,
    verified_client,
)

HTML = {"HTTP_ACCEPT": "text/html"}


def require_two_factor() -> None:
    TeamPolicy.objects.update_or_create(pk=1, defaults={"require_two_factor": True})


# --- Enrolment ------------------------------------------------------------------------------


def test_enrolment_needs_a_first_code_then_shows_ten_recovery_codes_once(client, agent_ann):
    client.force_login(agent_ann)
    page = client.get(reverse("two-factor-setup")).content.decode()
    assert '<svg width="' in page and 'class="two-factor-qr"' in page  # the QR code, inline
    key = secret_on_page(page)
    assert secret_on_page(client.get(reverse("two-factor-setup")).content.decode()) == key

    wrong = client.post(reverse("two-factor-setup"), {"code": "000000"})
    assert "That code does not match" in wrong.content.decode()
    assert not TOTPDevice.objects.exists()  # nothing counts before the first code

    done = client.post(reverse("two-factor-setup"), {"code": code_for_key(key)})

    assert done.status_code == 302 and done.url == reverse("two-factor-codes")
    device = TOTPDevice.objects.get(user=agent_ann)
    assert device.confirmed and device.bin_key == key
    shown = client.get(reverse("two-factor-codes")).content.decode()
    codes = list(StaticToken.objects.filter(device__user=agent_ann).values_list("token", flat=1))
    assert len(codes) == 10 and all(code in shown for code in codes)
    assert 'download="txtcrm-recovery-codes.txt"' in shown
    assert client.get(reverse("two-factor-codes")).status_code == 302  # shown once only
    assert client.get(reverse("home")).status_code == 200  # this session is verified
    entry = AuditEntry.objects.get(action=Action.TWO_FACTOR)
    assert (entry.actor, entry.target, entry.detail) == (agent_ann, "ann", {"change": "enrolled"})


def test_the_enrolment_code_cannot_be_used_again_to_sign_in(client, agent_ann):
    client.force_login(agent_ann)
    key = secret_on_page(client.get(reverse("two-factor-setup")).content.decode())
    code = code_for_key(key)
    client.post(reverse("two-factor-setup"), {"code": code})
    device = TOTPDevice.objects.get(user=agent_ann)

    other = Client()
    sign_in_with_password(other, "ann", "ann-password-1")
    reused = other.post(reverse("two-factor-verify"), {"code": code})

    assert "That code is not right" in reused.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    assert other.post(reverse("two-factor-verify"), {"code": code_for(device)}).status_code == 302


# --- The second step ------------------------------------------------------------------------


def test_a_user_with_an_authenticator_signs_in_with_a_code(agent_ann):
    device, _codes = enrol(agent_ann)
    client = Client()

    response = client.post(
        reverse("login"), {"username": "ann", "password": "ann-password-1", "next": "/contacts/"}
    )
    assert response.status_code == 302
    step = client.get(response.url, **HTML)
    assert step.status_code == 302 and step.url.startswith(reverse("two-factor-verify"))
    page = client.get(step.url)
    assert "Enter the 6-digit code" in page.content.decode()
    assert 'id="notif-bell"' not in page.content.decode()  # no navigation while a step is owed

    done = client.post(
        reverse("two-factor-verify"), {"code": code_for(device), "next": "/contacts/"}
    )

    assert done.status_code == 302 and done.url == "/contacts/"
    assert client.get("/contacts/").status_code == 200
    assert client.session[two_factor.SESSION_STEP]["step"] == ""


def test_an_unsafe_next_goes_home_instead(agent_ann):
    device, _codes = enrol(agent_ann)
    client = Client()
    sign_in_with_password(client, "ann", "ann-password-1")

    done = client.post(
        reverse("two-factor-verify"), {"code": code_for(device), "next": "https://evil.example/"}
    )

    assert done.url == reverse("home")


def test_a_recovery_code_signs_in_once(agent_ann):
    _device, codes = enrol(agent_ann)
    first = Client()
    sign_in_with_password(first, "ann", "ann-password-1")

    done = first.post(reverse("two-factor-verify"), {"code": codes[0].upper()}, follow=True)

    assert done.redirect_chain[-1][0] == reverse("two-factor")  # to deal with the lost phone
    assert "You signed in with a recovery code; 9 left." in done.content.decode()
    assert "9 recovery codes left." in done.content.decode()
    assert StaticToken.objects.filter(device__user=agent_ann).count() == 9
    entry = AuditEntry.objects.get(action=Action.TWO_FACTOR)
    assert entry.detail == {"change": "recovery code used", "codes_left": 9}

    again = Client()
    sign_in_with_password(again, "ann", "ann-password-1")
    refused = again.post(reverse("two-factor-verify"), {"code": codes[0]})

    assert "That code is not right" in refused.content.decode()
    assert again.get(reverse("home"), **HTML).status_code == 302  # still owes the step


def test_a_wrong_code_is_refused_and_the_next_try_must_wait(agent_ann, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a minute after one wrong code: no race with the clock
    device, _codes = enrol(agent_ann)
    client = Client(REMOTE_ADDR="10.1.2.3")
    sign_in_with_password(client, "ann", "ann-password-1")

    wrong = client.post(reverse("two-factor-verify"), {"code": "123456"})
    right_too_soon = client.post(reverse("two-factor-verify"), {"code": code_for(device)})

    assert wrong.status_code == 200 and "That code is not right" in wrong.content.decode()
    assert right_too_soon.status_code == 429
    assert "Too many wrong codes: wait" in right_too_soon.content.decode()
    assert client.get(reverse("home"), **HTML).status_code == 302
    failures = AuditEntry.objects.filter(action=Action.SIGN_IN_FAILED).order_by("pk")
    assert [(e.target, e.ip, e.detail["step"], e.detail["throttled"]) for e in failures] == [
        ("ann", "10.1.2.3", "two-factor", False),
        ("ann", "10.1.2.3", "two-factor", True),
    ]

    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(minutes=2)
    )  # the minute has passed
    assert client.post(reverse("two-factor-verify"), {"code": code_for(device)}).status_code == 302


def test_wrong_codes_double_the_wait(agent_ann):
    device, _codes = enrol(agent_ann)
    for _ in range(4):
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
        with pytest.raises(two_factor.WrongCode):
            two_factor.verify(agent_ann, "000000" if code_for(device) != "000000" else "111111")

    with pytest.raises(two_factor.Throttled) as throttled:
        two_factor.verify(agent_ann, code_for(device))

    assert 7 <= throttled.value.seconds <= 8  # 2^(4-1) seconds after the fourth


def test_the_password_step_is_still_throttled_by_axes(agent_ann, settings):
    enrol(agent_ann)
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        last = sign_in_with_password(client, "ann", "wrong-password")

    assert last.status_code == 429
    assert sign_in_with_password(client, "ann", "ann-password-1").status_code == 429


def test_the_step_page_without_a_step_owed_goes_on(client, agent_ann):
    client.force_login(agent_ann)

    response = client.get(reverse("two-factor-verify") + "?next=/contacts/")

    assert response.status_code == 302 and response.url == "/contacts/"


# --- What a session that owes a step can reach ------------------------------------------------


@pytest.fixture
def pending(agent_ann):
    """Ann has passed the password step, not the code."""
    enrol(agent_ann)
    client = Client()
    sign_in_with_password(client, "ann", "ann-password-1")
    return client


def test_htmx_and_script_requests_get_401(pending):
    poll = pending.get("/inbox/poll/?cursor=2020-01-01T00:00:00Z", HTTP_HX_REQUEST="true")
    badge = pending.get(reverse("notifications-badge"), HTTP_ACCEPT="application/json")
    api = pending.get("/api/contacts/")

    assert poll.status_code == 401 and poll.headers["HX-Refresh"] == "true"
    assert badge.status_code == 401 and "Finish signing in" in badge.json()["detail"]
    assert api.status_code == 401 and api.headers["WWW-Authenticate"] == "Token"


def test_a_post_is_refused_before_the_view(pending):
    response = pending.post("/contacts/new/", {"first_name": "Eve"})

    assert response.status_code == 302
    assert response.url == reverse("two-factor-verify")


def test_sign_out_works_while_a_step_is_owed(pending):
    assert pending.post(reverse("logout")).url == reverse("login")
    assert pending.get(reverse("home")).url.startswith(reverse("login"))


def test_the_rest_api_with_a_token_is_unaffected(pending, agent_ann):
    token = Token.objects.create(user=agent_ann)

    alone = Client().get("/api/contacts/", HTTP_AUTHORIZATION=f"Token {token.key}")
    with_pending_session = pending.get("/api/contacts/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert alone.status_code == 200
    assert with_pending_session.status_code == 200  # DRF goes by the token alone


# --- The team policy ---------------------------------------------------------------------------


def test_when_required_a_user_without_it_is_sent_to_enrolment(agent_ann):
    require_two_factor()
    client = Client()

    signed_in = sign_in_with_password(client, "ann", "ann-password-1")
    home = client.get(signed_in.url, **HTML)
    setup = client.get(home.url)

    assert home.url.startswith(reverse("two-factor-setup"))
    assert "Your team requires two-factor sign-in" in setup.content.decode()
    assert client.get("/contacts/", **HTML).url.startswith(reverse("two-factor-setup"))
    assert client.get(reverse("profile"), **HTML).status_code == 302

    key = secret_on_page(setup.content.decode())
    client.post(reverse("two-factor-setup"), {"code": code_for_key(key)})

    assert client.get("/contacts/").status_code == 200
    assert client.get(reverse("two-factor-codes")).status_code == 200  # the codes, once


def test_a_session_already_signed_in_is_reached_after_the_refresh_time(
    client, agent_ann, settings
):
    client.force_login(agent_ann)
    assert client.get("/contacts/").status_code == 200
    require_two_factor()

    assert client.get("/contacts/").status_code == 200  # remembered in the session for now
    settings.SESSION_REFRESH_SECONDS = 0

    assert client.get("/contacts/", **HTML).url.startswith(reverse("two-factor-setup"))


def test_a_signed_in_request_costs_no_query_for_the_step(
    client, agent_ann, django_assert_num_queries
):
    client.force_login(agent_ann)
    request = client.get("/contacts/").wsgi_request

    with django_assert_num_queries(0):
        assert two_factor.step_for(request) == two_factor.Step.NONE


def test_the_default_policy_asks_nothing_of_users_without_it(agent_ann):
    client = Client()

    signed_in = sign_in_with_password(client, "ann", "ann-password-1")

    assert client.get(signed_in.url).status_code == 200


# --- Turning it off, new codes, an admin's reset ----------------------------------------------


def test_turning_off_needs_a_code_or_the_password(agent_ann):
    device, _codes = enrol(agent_ann)
    client = verified_client(agent_ann, "ann-password-1", device)

    nothing = client.post(reverse("two-factor-off"), {})
    wrong = client.post(reverse("two-factor-off"), {"password": "not-it"})
    assert nothing.status_code == wrong.status_code == 400
    assert "Enter a current code or your password." in nothing.content.decode()
    assert TOTPDevice.objects.filter(user=agent_ann).exists()

    done = client.post(reverse("two-factor-off"), {"password": "ann-password-1"}, follow=True)

    assert "Two-factor sign-in is off." in done.content.decode()
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    assert client.get("/contacts/").status_code == 200
    entry = AuditEntry.objects.get(action=Action.TWO_FACTOR)
    assert (entry.target, entry.detail["change"]) == ("ann", "turned off")


def test_turning_off_with_a_recovery_code(agent_ann):
    device, codes = enrol(agent_ann)
    client = verified_client(agent_ann, "ann-password-1", device)

    client.post(reverse("two-factor-off"), {"code": codes[3]})

    assert not TOTPDevice.objects.exists()


def test_new_recovery_codes_replace_the_old_ones(agent_ann):
    device, codes = enrol(agent_ann)
    client = verified_client(agent_ann, "ann-password-1", device)

    client.post(reverse("two-factor-codes"))
    shown = client.get(reverse("two-factor-codes")).content.decode()

    new = set(StaticToken.objects.values_list("token", flat=True))
    assert len(new) == 10 and not new & set(codes)
    assert all(code in shown for code in new)
    assert client.get("/contacts/").status_code == 200  # still verified
    entry = AuditEntry.objects.get(action=Action.TWO_FACTOR)
    assert entry.detail == {"change": "recovery codes regenerated"}


def test_an_admin_resets_a_lost_phone(admin_user, agent_ann):
    enrol(agent_ann)
    admin_device, _codes = enrol(admin_user)
    admin = verified_client(admin_user, "ada-password-1", admin_device)
    users = admin.get(reverse("users")).content.decode()
    row = users.split(f'id="user-{agent_ann.pk}"')[1].split("</tr>")[0]
    assert "Reset two-factor" in row

    done = admin.post(reverse("user-reset-two-factor", args=[agent_ann.pk]), follow=True)

    assert "two-factor sign-in is reset" in done.content.decode()
    assert not TOTPDevice.objects.filter(user=agent_ann).exists()
    assert not StaticDevice.objects.filter(user=agent_ann).exists()
    entry = AuditEntry.objects.get(action=Action.TWO_FACTOR)
    assert (entry.actor, entry.target, entry.detail) == (admin_user, "ann", {"change": "reset"})
    client = Client()
    signed_in = sign_in_with_password(client, "ann", "ann-password-1")
    assert client.get(signed_in.url).status_code == 200  # the password alone again


def test_resetting_someone_without_it_says_so(admin_client, agent_ann):
    done = admin_client.post(reverse("user-reset-two-factor", args=[agent_ann.pk]), follow=True)

    assert "has no two-factor sign-in to reset" in done.content.decode()
    assert not AuditEntry.objects.filter(action=Action.TWO_FACTOR).exists()


def test_the_command_line_reset_for_the_last_admin(admin_user):
    enrol(admin_user)
    out = StringIO()

    call_command("two_factor_reset", "ada", stdout=out)

    assert "removed for ada" in out.getvalue()
    assert not TOTPDevice.objects.exists()
    entry = AuditEntry.objects.get(action=Action.TWO_FACTOR)
    assert (entry.actor, entry.detail) == (None, {"change": "reset", "via": "command line"})
    with pytest.raises(CommandError):
        call_command("two_factor_reset", "ada")


def test_the_profile_says_whether_it_is_on(client, agent_ann):
    client.force_login(agent_ann)
    assert reverse("two-factor-setup") in client.get(reverse("profile")).content.decode()
    device, _codes = enrol(agent_ann)
    client = verified_client(agent_ann, "ann-password-1", device)

    page = client.get(reverse("two-factor")).content.decode()

    assert "10 recovery codes left." in page and "Turn off two-factor sign-in" in page


def test_no_recovery_codes_without_an_authenticator(client, agent_ann):
    client.force_login(agent_ann)

    done = client.post(reverse("two-factor-codes"), follow=True)

    assert "there are no codes to renew" in done.content.decode()
    assert not StaticDevice.objects.exists()
