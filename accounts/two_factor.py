"""Two-factor sign-in (docs/security.md, "Two-factor sign-in"): the rules, on django-otp.

A user who has it holds one confirmed authenticator (a TOTPDevice: an app's 6-digit codes,
30-second steps, one step of clock tolerance) and one set of RECOVERY_CODES single-use
recovery codes (a StaticDevice). Enrolment keeps the new secret in the session until the
user confirms it with a first code, so an abandoned enrolment leaves nothing behind and a
page's GET writes nothing to the database.

Signing in is two steps: the password (Django's LoginView, throttled by django-axes), then,
for a user with an authenticator, a code or a recovery code (`verify`, throttled by
django-otp per device: after n wrong codes the next try waits 2^(n-1) seconds). Until then
the session owes a step (`Step`), and accounts/middleware.py (TwoFactorGateMiddleware)
lets it reach nothing but that step and signing out. When the team policy requires
two-factor sign-in, a user without an authenticator owes enrolment instead.

Which step a session owes is kept in the session, so an ordinary request costs no query;
it is worked out again at sign-in, while a step is owed, and every SESSION_REFRESH_SECONDS
(so a policy switched on, or an authenticator added in another session, reaches sessions
already signed in within that time). REST API calls with a token carry no session: API
tokens are unaffected by design (docs/security.md).
"""

import math
import time
from base64 import b32encode
from binascii import unhexlify
from enum import StrEnum

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.models import TeamPolicy

RECOVERY_CODES = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
# Session keys: the step this session owes, the secret being enrolled, the codes to show once.
SESSION_STEP = "accounts:two-factor-step"
ENROLLING = "accounts:two-factor-enrolling"  # the new secret, hex
CODES_TO_SHOW = "accounts:recovery-codes"


class Step(StrEnum):
    NONE = ""
    VERIFY = "verify"  # a code from the authenticator, or a recovery code
    ENROL = "enrol"  # the team requires two-factor sign-in and this user has none yet


class WrongCode(Exception):
    """The code matched nothing."""


class NotEnrolled(Exception):
    """The user has no authenticator."""


class Throttled(Exception):
    """Too many wrong codes: the next try is allowed in `seconds`."""

    def __init__(self, seconds: int):
        super().__init__(seconds)
        self.seconds = seconds


# --- What a user has ----------------------------------------------------------------------


def authenticator(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def is_enrolled(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def enrolled_user_ids() -> set[int]:
    """For the Users page: who has two-factor sign-in, in one query."""
    return set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))


# --- Enrolment ------------------------------------------------------------------------------


def pending_secret(request: HttpRequest) -> str:
    """The secret this session is enrolling (hex), made on first use and kept until
    confirmed, so reloading the page does not invalidate a QR code already scanned."""
    secret = request.session.get(ENROLLING)
    if not secret:
        secret = request.session[ENROLLING] = random_hex(20)
    return secret


def secret_for_typing(secret: str) -> str:
    """The secret as authenticator apps take it by hand: base32, in groups of four."""
    text = b32encode(unhexlify(secret)).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_code_svg(user, secret: str) -> str:
    """The otpauth:// link as an inline SVG QR code (attributes only, no inline style,
    so the Content-Security-Policy allows it)."""
    link = TOTPDevice(user=user, key=secret).config_url
    return segno.make(link, error="m").svg_inline(
        scale=4, border=4, light="#fff", svgclass="two-factor-qr", lineclass=None, title=""
    )


def _matching_step(secret: str, code: str) -> TOTP | None:
    code = normalise(code)
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = TOTP(unhexlify(secret))  # TOTPDevice's defaults: 30 s, 6 digits
    return totp if totp.verify(int(code), tolerance=1) else None


def confirm_enrolment(request: HttpRequest, code: str) -> list[str]:
    """The first code proves the app holds the secret: the authenticator counts from
    now on (replacing any earlier one), this session is verified by it, and new recovery
    codes are made and returned (to be shown once)."""
    user = request.user
    secret = request.session.get(ENROLLING)
    totp = _matching_step(secret, code) if secret else None
    if totp is None:
        raise WrongCode
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(
            user=user,
            name=AUTHENTICATOR_NAME,
            key=secret,
            confirmed=True,
            last_t=totp.t(),  # this code cannot be used again
            drift=totp.drift,
        )
        codes = _replace_recovery_codes(user)
    del request.session[ENROLLING]
    mark_verified(request, device)
    return codes


def _replace_recovery_codes(user) -> list[str]:
    """Inside a transaction. The StaticDevice is kept (a session verified by a recovery
    code stays verified); only its codes change."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": RECOVERY_NAME, "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def regenerate_recovery_codes(user) -> list[str]:
    """New codes; the old ones stop working at once."""
    if not is_enrolled(user):
        raise NotEnrolled
    with transaction.atomic():
        return _replace_recovery_codes(user)


def remove(user) -> bool:
    """Turn two-factor sign-in off for `user` (their own choice, or an admin's reset):
    every device and recovery code goes. Says whether there was anything to remove."""
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        removed += model.objects.filter(user=user).delete()[0]
    return removed > 0


# --- The second step --------------------------------------------------------------------------


def normalise(code: str) -> str:
    """As people type codes: spaces and hyphens dropped, any case."""
    return "".join(code.split()).replace("-", "").lower()


def is_recovery_code(code: str) -> bool:
    code = normalise(code)
    return not (len(code) == 6 and code.isdigit())


def _device_for(user, code: str) -> Device | None:
    model = StaticDevice if is_recovery_code(code) else TOTPDevice
    return model.objects.filter(user=user, confirmed=True).first()


def _wait(details: dict) -> int:
    remaining = (details["locked_until"] - timezone.now()).total_seconds()
    return max(1, math.ceil(remaining))


def verify(user, code: str) -> Device:
    """The device the code is good for (a used recovery code is deleted), else WrongCode;
    Throttled while the device's back-off after wrong codes lasts. A wrong code counts
    against the device even though WrongCode is raised (outside the transaction)."""
    device = _device_for(user, code)
    if device is None:
        raise WrongCode
    with transaction.atomic():
        device = type(device).objects.select_for_update().get(pk=device.pk)
        allowed, details = device.verify_is_allowed()
        verified = allowed and device.verify_token(normalise(code))
    if not allowed:
        raise Throttled(_wait(details))
    if not verified:
        raise WrongCode
    return device


# --- The session: which step it owes ------------------------------------------------------


def required_step(user, verified: bool) -> Step:
    if verified:
        return Step.NONE
    if is_enrolled(user):
        return Step.VERIFY
    if TeamPolicy.current().require_two_factor:
        return Step.ENROL
    return Step.NONE


def _remember(session, step: Step) -> None:
    session[SESSION_STEP] = {"step": str(step), "at": int(time.time())}


def start_session(sender, request, user, **kwargs) -> None:
    """user_logged_in: a new sign-in owes the second step again (django-otp would keep a
    verification the session already had)."""
    if request is None or not hasattr(request, "session"):
        return
    verified = getattr(user, "otp_device", None) is not None
    if not verified:
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
    _remember(request.session, required_step(user, verified))


def step_for(request: HttpRequest) -> Step:
    """The step this signed-in session owes. From the session alone (no query) while
    nothing is owed and the answer is recent; otherwise worked out again."""
    state = request.session.get(SESSION_STEP) or {}
    fresh = time.time() - state.get("at", 0) < settings.SESSION_REFRESH_SECONDS
    if state.get("step") == Step.NONE and fresh:
        return Step.NONE
    step = required_step(request.user, request.user.is_verified())
    if state.get("step") != step or step == Step.NONE:
        _remember(request.session, step)
    return step


def mark_verified(request: HttpRequest, device: Device) -> None:
    otp_login(request, device)
    _remember(request.session, Step.NONE)


def recheck(request: HttpRequest) -> None:
    """After this user's own devices changed (turned off): what the session owes now."""
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    _remember(request.session, required_step(request.user, verified=False))
