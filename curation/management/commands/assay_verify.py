"""Check dataset versions against their hashes; exit status 1 when any fails."""

from django.core.management.base import BaseCommand, CommandError

from curation.management.cli import (
    add_user_argument,
    command_user,
    project_from_ref,
    version_from_ref,
)
from curation.permissions import Action
from curation.services.versions import dataset_version_verify


class Command(BaseCommand):
    help = (
        "Recompute every member's hashes and the version hash of one version, or of all "
        "the project's versions, and report any row that changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("number", type=int, nargs="?", help="Version number (default: all).")
        add_user_argument(parser)

    def handle(self, *args, **options):
        user = command_user(options["user"])
        project = project_from_ref(options["project"], user=user, action=Action.VIEW)
        if options["number"] is not None:
            versions = [version_from_ref(project, options["number"])]
        else:
            versions = list(project.versions.order_by("number"))
        if not versions:
            raise CommandError(f"Project '{project.name}' has no versions to verify.")
        failed = 0
        for version in versions:
            check = dataset_version_verify(version=version)
            if check.ok:
                self.stdout.write(f"v{version.number} ok  {check.actual_hash}")
                continue
            failed += 1
            self.stdout.write(f"v{version.number} FAILED")
            for problem in check.problems:
                self.stdout.write(f"  {problem}")
        if failed:
            raise CommandError(f"{failed} of {len(versions)} version(s) failed verification.")
