"""Push a project's examples to Label Studio as tasks (idempotent)."""

import json

from django.core.management.base import BaseCommand, CommandError

from curation.management.cli import add_user_argument, command_user, project_from_ref, run_inline
from curation.permissions import Action


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        add_user_argument(parser)
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--example-ids",
            default="",
            help="Comma-separated example ids: push only these (default: every example).",
        )

    def handle(self, *args, project: str, quiet: bool, example_ids: str, **options):
        target = project_from_ref(
            project, user=command_user(options.get("user")), action=Action.EDIT_DATA
        )
        params = {}
        if example_ids:
            try:
                params["example_ids"] = [int(i) for i in example_ids.split(",") if i.strip()]
            except ValueError as exc:
                raise CommandError(f"--example-ids must be numbers: {exc}") from exc
        run = run_inline(
            kind="label_studio_push", target=target, project=target, params=params, quiet=quiet
        )
        self.stdout.write(json.dumps(run.result, indent=2))
