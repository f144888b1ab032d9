"""Push a project's examples to Label Studio as tasks (idempotent)."""

import json

from django.core.management.base import BaseCommand, CommandError

from curation.management.cli import project_from_ref, run_inline


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--example-ids",
            default="",
            help="Comma-separated example ids: push only these (default: every example).",
        )

    def handle(self, *args, project: str, quiet: bool, example_ids: str, **options):
        target = project_from_ref(project)
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
