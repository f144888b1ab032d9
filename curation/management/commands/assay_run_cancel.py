"""Cancel a queued or running run, as the run page's Cancel button and the API do."""

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from curation.exceptions import AssayError
from curation.management.cli import add_user_argument, command_user
from curation.selectors.access import run_to_cancel_for_user
from curation.services.runs import run_cancel


class Command(BaseCommand):
    help = (
        "Cancel a run: a queued one ends at once, a running one stops at its next progress "
        "point and rolls back what it wrote. Needs the role that starts the run's kind."
    )

    def add_arguments(self, parser):
        parser.add_argument("run_id", type=int, help="The run's number (as on its page).")
        add_user_argument(parser)

    def handle(self, *args, **options):
        user = command_user(options["user"])
        run_id = options["run_id"]
        try:
            run = run_cancel(run=run_to_cancel_for_user(user, run_id), cancelled_by=user)
        except Http404 as exc:
            raise CommandError(f"No run #{run_id}.") from exc
        except (PermissionDenied, AssayError) as exc:
            raise CommandError(str(exc)) from exc
        if run.is_active:
            self.stdout.write(f"Cancel requested: run #{run.pk} stops at its next progress point.")
        else:
            self.stdout.write(f"Run #{run.pk} was cancelled.")
