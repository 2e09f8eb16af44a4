from django.core.management.base import BaseCommand, CommandError

from sandbox import services
from sandbox.models import Profile
from sandbox.schema import ValidationFailed


class Command(BaseCommand):
    help = (
        "Create a sandbox application (if missing) and print its TxtSync credentials. "
        "The secret is printed only when it is new: on creation or with --rotate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", default="default", help="application name")
        parser.add_argument("--account", default=services.DEFAULT_ACCOUNT, help="account name")
        parser.add_argument("--rotate", action="store_true", help="issue a new secret")
        parser.add_argument(
            "--rate-limit", help="this application's limit as CALLS/SECONDS, e.g. 100/60"
        )
        parser.add_argument(
            "--profile",
            choices=Profile.values,
            help="how its answers look (new applications: SANDBOX_PROFILE, default rich)",
        )
        parser.add_argument(
            "--api-key",
            help='require this x-api-key header on every API call ("" to require none)',
        )

    def handle(self, *args, name, account, rotate, rate_limit, profile, api_key, **options):
        credentials = services.ensure_application(name, account_name=account, rotate=rotate)
        application = credentials.application
        if rate_limit:
            try:
                calls, seconds = services.parse_rate(rate_limit)
            except ValueError as error:
                raise CommandError(str(error)) from error
            application.rate_limit_calls, application.rate_limit_seconds = calls, seconds
            application.save(update_fields=["rate_limit_calls", "rate_limit_seconds"])
        try:
            services.set_access(application, profile=profile, api_key=api_key)
        except ValidationFailed as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"TXTSYNC_CLIENT_KEY={application.client_key}")
        if credentials.client_secret:
            self.stdout.write(f"TXTSYNC_CLIENT_SECRET={credentials.client_secret}")
        else:
            self.stderr.write(
                f"Application {name!r} already exists; its secret cannot be shown again. "
                "Use --rotate for a new one."
            )
        if application.api_key:
            self.stdout.write(f"TXTSYNC_API_KEY={application.api_key}")
        self.stdout.write(f"# sandbox profile: {application.profile}")
