"""Create (or show) the Label Studio project linked to an Assay project."""

from django.core.management.base import BaseCommand, CommandError

from curation.exceptions import AssayError
from curation.management.cli import project_from_ref
from labeling.services.links import label_studio_project_link


class Command(BaseCommand):
    help = "Link a project to Label Studio: creates the LS project with a generated interface."

    def add_arguments(self, parser):
        parser.add_argument("project", help="Project id or exact name.")
        parser.add_argument("--overlap", type=int, default=1, help="Annotators per task.")

    def handle(self, *args, project: str, overlap: int, **options):
        try:
            link = label_studio_project_link(project=project_from_ref(project), overlap=overlap)
        except AssayError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Linked to Label Studio project {link.ls_project_id}: {link.project_url}"
        )
