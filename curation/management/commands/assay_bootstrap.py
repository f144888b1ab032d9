"""Create the first administrator (once) and print its credentials (every time)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from curation.services.bootstrap import (
    DEFAULT_ADMIN_USERNAME,
    admin_bootstrap,
    admin_credentials_describe,
)


class Command(BaseCommand):
    help = (
        "Create a superuser with a random password if none exists, store the credentials in "
        "ASSAY_DATA_DIR/admin-credentials.txt (mode 600) and print them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=DEFAULT_ADMIN_USERNAME)

    def handle(self, *args, **options):
        credentials_file = settings.ADMIN_CREDENTIALS_FILE
        credentials = admin_bootstrap(
            credentials_file=credentials_file, username=options["username"]
        )
        if credentials.created:
            self.stdout.write(f"Created the admin user; credentials saved in {credentials_file}")
        self.stdout.write(
            admin_credentials_describe(credentials, credentials_file=credentials_file)
        )
