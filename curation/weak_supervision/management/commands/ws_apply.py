"""Apply a project's labeling functions to all its examples, with a progress bar."""

import argparse

from django.core.management.base import BaseCommand

from curation.management.cli import add_user_argument, command_user, project_from_ref, run_inline
from curation.permissions import Action


class Command(BaseCommand):
    help = "Apply the project's active labeling functions and print their analysis."

    def add_arguments(self, parser) -> None:
        add_user_argument(parser)
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--dask",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Apply Python LFs on Dask (ASSAY_DASK_SCHEDULER, or a local cluster), or "
            "never (--no-dask); default: when the project has ASSAY_DASK_MIN_ROWS rows.",
        )

    def handle(self, *args, **options) -> None:
        from curation.weak_supervision.management.commands.ws_analysis import analysis_table
        from curation.weak_supervision.models import LFApplication

        project = project_from_ref(
            options["project"], user=command_user(options.get("user")), action=Action.EDIT_DATA
        )
        run = run_inline(
            kind="lf_apply",
            target=project,
            project=project,
            params={} if options["dask"] is None else {"dask": options["dask"]},
            quiet=options["quiet"],
        )
        application = LFApplication.objects.get(pk=run.result["application_id"])
        self.stdout.write(analysis_table(application))
