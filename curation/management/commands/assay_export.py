"""Export a dataset version to files (HF dataset, Parquet, JSONL), with a progress bar."""

from django.core.management.base import BaseCommand

from curation.management.cli import (
    add_user_argument,
    command_user,
    project_from_ref,
    run_inline,
    version_from_ref,
)
from curation.models import ExportFormat
from curation.permissions import Action


class Command(BaseCommand):
    help = (
        "Write a dataset version as a saved Hugging Face dataset, Parquet and JSON Lines, "
        "with a dataset card and SHA256SUMS, under EXPORT_DIR."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("number", type=int, help="Version number.")
        parser.add_argument(
            "--format",
            dest="formats",
            action="append",
            choices=ExportFormat.values,
            help="Format to write; repeat for several (default: all).",
        )
        add_user_argument(parser)

    def handle(self, *args, **options):
        user = command_user(options["user"])
        project = project_from_ref(options["project"], user=user, action=Action.EXPORT)
        version = version_from_ref(project, options["number"])
        run = run_inline(
            created_by=user,
            kind="export",
            target=version,
            project=version.project,
            params={"formats": options["formats"] or []},
            quiet=options["verbosity"] == 0,
        )
        self.stdout.write(f"Exported {version} ({version.status}) to {run.result['path']}")
        for exported in run.result["files"]:
            self.stdout.write(f"  {exported['path']}  ({exported['size_bytes']} bytes)")
