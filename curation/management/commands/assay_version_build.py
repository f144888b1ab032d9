"""Build a new draft dataset version of a project, with a progress bar."""

from django.core.management.base import BaseCommand

from curation.management.cli import add_user_argument, command_user, project_from_ref, run_inline
from curation.models import DatasetVersion
from curation.permissions import Action


class Command(BaseCommand):
    help = (
        "Freeze the project's curated examples into a new draft version, split "
        "train/validation/test (seeded, stratified, duplicates never across splits)."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("--seed", type=int, default=0, help="Split seed (default 0).")
        parser.add_argument("--note", default="", help="What this version is for.")
        add_user_argument(parser)

    def handle(self, *args, **options):
        user = command_user(options["user"])
        project = project_from_ref(options["project"], user=user, action=Action.EDIT_DATA)
        run = run_inline(
            created_by=user,
            kind="version_build",
            target=project,
            project=project,
            params={"seed": options["seed"], "note": options["note"]},
            quiet=options["verbosity"] == 0,
        )
        version = DatasetVersion.objects.get(pk=run.result["version_id"])
        self.stdout.write(f"Built {version} (draft): {version.manifest['member_count']} examples")
        for split, count in version.manifest["split_counts"].items():
            self.stdout.write(f"  {split:<10} {count}")
        self.stdout.write(f"  hash       {version.content_hash}")
        if version.parent:
            self.stdout.write(f"  parent     v{version.parent.number} (its splits were kept)")
