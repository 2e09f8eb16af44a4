"""Print a user's REST API token, creating it if needed (`--rotate` replaces it)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import services, signals


class Command(BaseCommand):
    help = (
        "Print USERNAME's API token for `Authorization: Token <key>`, creating it when "
        "the user has none. --rotate replaces it, so the old one stops working. "
        "The token is a password: it is printed once here and never logged."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--rotate", action="store_true", help="Replace the token; the old one stops working."
        )

    def handle(self, *args, username: str, rotate: bool, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist as error:
            raise CommandError(f"No user named {username!r}.") from error
        if not user.is_active:
            raise CommandError(f"{username!r} is not active: activate the user first.")
        if rotate:
            token, replaced = services.rotate_api_token(user)
            signals.api_token_rotated.send(
                sender=Command,
                request=None,
                user=user,
                replaced=replaced,
                via="manage.py api_token",
            )
        else:
            token = services.api_token(user)
        self.stdout.write(token.key)
