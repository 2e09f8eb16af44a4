"""Remove a user's two-factor sign-in from the command line: for the last admin who lost
their phone and their recovery codes, when no other admin can reset it on the Users page."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import two_factor
from accounts.signals import two_factor_changed


class Command(BaseCommand):
    help = (
        "Remove USERNAME's authenticator and recovery codes, so they sign in with their "
        "password alone (or set up a new authenticator, when the team requires it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist as error:
            raise CommandError(f"No user named {username!r}.") from error
        if not two_factor.remove(user):
            raise CommandError(f"{username!r} has no two-factor sign-in.")
        two_factor_changed.send(
            sender=None, request=None, actor=None, user=user, change="reset", via="command line"
        )
        self.stdout.write(f"Two-factor sign-in removed for {username}.")
