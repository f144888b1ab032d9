"""Push a project's examples to Label Studio as tasks (idempotent)."""

import json

from django.core.management.base import BaseCommand

from curation.management.cli import project_from_ref, run_inline


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args, project: str, quiet: bool, **options):
        target = project_from_ref(project)
        run = run_inline(
            kind="label_studio_push", target=target, project=target, params={}, quiet=quiet
        )
        self.stdout.write(json.dumps(run.result, indent=2))
