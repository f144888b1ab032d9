"""Create an API token for a user and print it (the only time it is shown)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from curation.exceptions import AssayError
from curation.services.api_tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it once; only its SHA-256 is stored."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="What the token is for (default: cli).")

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named '{username}'.")
        try:
            token, raw = api_token_create(user=user, name=name)
        except AssayError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"Token '{token.name}' for {username}; it will not be shown again:")
        self.stdout.write(raw)
