"""Pull a project's Label Studio annotations as annotator labels (idempotent)."""

import json

from django.core.management.base import BaseCommand

from curation.management.cli import add_user_argument, command_user, project_from_ref, run_inline
from curation.permissions import Action


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        add_user_argument(parser)
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--full", action="store_true", help="Read everything (mirrors deletions of tasks)."
        )

    def handle(self, *args, project: str, quiet: bool, full: bool, **options):
        target = project_from_ref(
            project, user=command_user(options.get("user")), action=Action.EDIT_DATA
        )
        run = run_inline(
            kind="label_studio_pull",
            target=target,
            project=target,
            params={"full": full},
            quiet=quiet,
        )
        self.stdout.write(json.dumps(run.result, indent=2))
