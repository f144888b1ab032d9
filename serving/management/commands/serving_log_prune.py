"""Delete logged requests (and their feedback) older than the retention setting."""

from django.conf import settings
from django.core.management.base import BaseCommand

from serving.services.request_log import request_log_prune


class Command(BaseCommand):
    help = "Apply ASSAY_REQUEST_LOG_RETENTION_DAYS (or --days N) to the request log."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Override the retention for this run.")

    def handle(self, *args, **options):
        days = (
            options["days"]
            if options["days"] is not None
            else settings.SERVING_REQUEST_LOG_RETENTION_DAYS
        )
        deleted = request_log_prune(days=days)
        self.stdout.write(f"Deleted {deleted} logged requests older than {days} days.")
